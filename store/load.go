package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"credprops/access"
)

// Seed is the content of a bootstrap file: the entries that Load creates or
// updates. Each entry carries the line where it starts in its file, so that
// errors can name it. A Line of 0 means the entry has no source line.
type Seed struct {
	Clients     []SeedClient
	Roles       []SeedRole
	Users       []SeedUser
	Properties  []SeedProperty
	Credentials []SeedCredential
}

// SeedClient is a client, identified by ExtID.
type SeedClient struct {
	ExtID string
	Name  string
	Line  int
}

// SeedRole is a custom role, identified by Name. Built-in role names are
// invalid here.
type SeedRole struct {
	Name   string
	Rights []access.Right
	Line   int
}

// SeedUser is a user, identified by ExtID. Client is the extId of its
// client. LoginID is optional. Roles are all of the user's role assignments:
// Load replaces the stored ones with them.
type SeedUser struct {
	ExtID   string
	Client  string
	LoginID *string
	Roles   []SeedRoleAssignment
	Line    int
}

// SeedRoleAssignment gives a user the role Name inside a dataroom: the
// clients listed by extId, or every client when Clients is empty.
type SeedRoleAssignment struct {
	Name    string
	Clients []string
	Line    int
}

// SeedProperty is a property definition of the scope
// CREDENTIAL_GENERIC_GLOBAL, identified by Name and Client. An empty Client
// makes the definition global. Empty Type, UniquenessScope, AccessCreate and
// AccessModify mean STRING, NONE and READ_WRITE.
type SeedProperty struct {
	Name            string
	Client          string
	Type            string
	AllowedValues   []string
	StringMaxLen    *int
	StringRegex     *string
	UniquenessScope string
	AccessCreate    string
	AccessModify    string
	Description     string
	Line            int
}

// SeedCredential is a generic credential, identified by ExtID. User is the
// extId of its user. An empty StateName means active. Properties
// change values like a PATCH request: a nil or empty value deletes the
// stored one, and properties not listed keep their values.
type SeedCredential struct {
	ExtID          string
	User           string
	Identification string
	StateName      string
	Properties     map[string]*string
	Line           int
}

// LoadCounts is how many entries of one kind Load created and updated.
// Entries that already matched the seed count in neither.
type LoadCounts struct {
	Created int
	Updated int
}

// LoadReport counts the entries that Load created and updated, per kind.
type LoadReport struct {
	Clients     LoadCounts
	Roles       LoadCounts
	Users       LoadCounts
	Properties  LoadCounts
	Credentials LoadCounts
}

func (r LoadReport) kinds() []struct {
	name   string
	counts LoadCounts
} {
	return []struct {
		name   string
		counts LoadCounts
	}{
		{"clients", r.Clients},
		{"roles", r.Roles},
		{"users", r.Users},
		{"properties", r.Properties},
		{"credentials", r.Credentials},
	}
}

// LogAttrs returns the counts as slog attributes, one group per kind, such
// as clients.created=2 clients.updated=0.
func (r LoadReport) LogAttrs() []any {
	var attrs []any
	for _, k := range r.kinds() {
		attrs = append(attrs, slog.Group(k.name,
			"created", k.counts.Created, "updated", k.counts.Updated))
	}
	return attrs
}

// String describes the counts in words, such as
// "created 2 clients, 3 users; updated 1 credentials", or "no changes".
func (r LoadReport) String() string {
	var created, updated []string
	for _, k := range r.kinds() {
		if k.counts.Created > 0 {
			created = append(created, fmt.Sprintf("%d %s", k.counts.Created, k.name))
		}
		if k.counts.Updated > 0 {
			updated = append(updated, fmt.Sprintf("%d %s", k.counts.Updated, k.name))
		}
	}

	var parts []string
	if len(created) > 0 {
		parts = append(parts, "created "+strings.Join(created, ", "))
	}
	if len(updated) > 0 {
		parts = append(parts, "updated "+strings.Join(updated, ", "))
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, "; ")
}

// LoadError is the first problem that Load found, with the line of the
// seed entry that caused it.
type LoadError struct {
	Line int
	Err  error
}

func (e *LoadError) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Limits of seed fields, in characters. Identifiers match the path
// parameter limit of the API; the others match the column sizes.
const (
	maxIDLen   = 255
	maxTextLen = 4000
)

// Empty reports whether the database contains no client.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var exists bool
	err := s.read.WithContext(ctx).
		Raw("SELECT EXISTS (SELECT 1 FROM clients)").Scan(&exists).Error
	if err != nil {
		return false, fmt.Errorf("check for clients: %w", err)
	}
	return !exists, nil
}

// Load creates or updates the entries of seed in one transaction: all of
// them, or none when it returns an error. Clients, users and credentials are
// matched by extId, roles by name and property definitions by name and
// client, so loading the same seed twice changes nothing the second time.
//
// Entries not in the seed are left alone. An entry in the seed replaces the
// stored fields of its record, with these exceptions: a user's client and a
// credential's user cannot change once stored, and a credential's
// Properties change only the values they name. A user's Roles replace all
// of the user's stored role assignments.
//
// Property values obey the same rules as in UpdateProperties, but per-
// property access modes do not apply and archived credentials accept
// values. Changing a definition does not check the values already stored,
// except that switching it to ABSOLUTE fails when two credentials share a
// value.
//
// Errors about an entry are a *LoadError naming its line. A property value
// that breaks a rule yields a *LoadError that wraps a *ValidationError. The
// messages name properties and rules but never property values.
func (s *Store) Load(ctx context.Context, seed Seed) (LoadReport, error) {
	var report LoadReport
	err := s.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l := newLoader(tx)

		steps := []func() error{
			func() error { return l.loadClients(seed.Clients) },
			func() error { return l.loadRoles(seed.Roles) },
			func() error { return l.loadUsers(seed.Users) },
			func() error { return l.loadProperties(seed.Properties) },
			func() error { return l.loadCredentials(seed.Credentials) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}

		report = l.report
		return nil
	})
	if err != nil {
		return LoadReport{}, err
	}
	return report, nil
}

// loader runs inside Load's transaction. Its maps cache the IDs of records
// that entries refer to by extId or name.
type loader struct {
	tx      *gorm.DB
	report  LoadReport
	clients map[string]int64
	roles   map[string]int64
	users   map[string]userOwner
}

// userOwner is a user's ID with its client's ID and extId.
type userOwner struct {
	ID          int64
	ClientID    int64
	ClientExtID string
}

func newLoader(tx *gorm.DB) *loader {
	return &loader{
		tx:      tx,
		clients: make(map[string]int64),
		roles:   make(map[string]int64),
		users:   make(map[string]userOwner),
	}
}

func fail(line int, format string, args ...any) error {
	return &LoadError{Line: line, Err: fmt.Errorf(format, args...)}
}

// find loads the first row that matches the condition into dest and
// reports whether there was one.
func find(tx *gorm.DB, dest any, query string, args ...any) (bool, error) {
	res := tx.Where(query, args...).Limit(1).Find(dest)
	return res.RowsAffected > 0, res.Error
}

// checkText returns an error when a required field is empty or longer than
// maxLen characters.
func checkText(field, value string, maxLen int) error {
	if value == "" {
		return fmt.Errorf("%s is missing", field)
	}
	return checkLen(field, value, maxLen)
}

func checkLen(field, value string, maxLen int) error {
	if n := utf8.RuneCountInString(value); n > maxLen {
		return fmt.Errorf("%s has %d characters, more than the maximum of %d", field, n, maxLen)
	}
	return nil
}

// entryName describes an entry in messages, such as `client "acme"`.
func entryName(kind, id string) string {
	if id == "" {
		return kind
	}
	return fmt.Sprintf("%s %q", kind, id)
}

// firstLines remembers where each key of a kind of entry first appeared, so
// that a repeated entry is reported with both lines.
type firstLines map[string]int

func (f firstLines) repeat(key string, line int) (int, bool) {
	if first, ok := f[key]; ok {
		return first, true
	}
	f[key] = line
	return 0, false
}

func (l *loader) loadClients(entries []SeedClient) error {
	extIDs, names := firstLines{}, firstLines{}
	for _, c := range entries {
		entry := entryName("client", c.ExtID)
		if err := checkText("extId", c.ExtID, maxIDLen); err != nil {
			return fail(c.Line, "%s: %w", entry, err)
		}
		if err := checkText("name", c.Name, maxIDLen); err != nil {
			return fail(c.Line, "%s: %w", entry, err)
		}
		if first, ok := extIDs.repeat(c.ExtID, c.Line); ok {
			return fail(c.Line, "%s is already listed on line %d", entry, first)
		}
		if first, ok := names.repeat(c.Name, c.Line); ok {
			return fail(c.Line, "%s: name %q is already used on line %d", entry, c.Name, first)
		}

		if err := l.saveClient(c); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) saveClient(c SeedClient) error {
	entry := entryName("client", c.ExtID)

	// A stored client of another extId may already use the name. Renaming
	// that client in the same file does not help when its entry comes later.
	var other client
	found, err := find(l.tx, &other, "name = ? AND ext_id <> ?", c.Name, c.ExtID)
	if err != nil {
		return fail(c.Line, "%s: check name: %w", entry, err)
	}
	if found {
		return fail(c.Line, "%s: name %q is already used by client %q", entry, c.Name, other.ExtID)
	}

	var existing client
	found, err = find(l.tx, &existing, "ext_id = ?", c.ExtID)
	if err != nil {
		return fail(c.Line, "%s: look up: %w", entry, err)
	}

	switch {
	case !found:
		existing = client{ExtID: c.ExtID, Name: c.Name}
		if err := l.tx.Create(&existing).Error; err != nil {
			return fail(c.Line, "%s: create: %w", entry, err)
		}
		l.report.Clients.Created++
	case existing.Name != c.Name:
		if err := l.tx.Model(&existing).Update("name", c.Name).Error; err != nil {
			return fail(c.Line, "%s: update: %w", entry, err)
		}
		l.report.Clients.Updated++
	}

	l.clients[c.ExtID] = existing.ID
	return nil
}

func (l *loader) loadRoles(entries []SeedRole) error {
	names := firstLines{}
	for _, r := range entries {
		entry := entryName("role", r.Name)
		if err := checkText("name", r.Name, maxIDLen); err != nil {
			return fail(r.Line, "%s: %w", entry, err)
		}
		if _, ok := access.BuiltinRoles[r.Name]; ok {
			return fail(r.Line, "%s is a built-in role and cannot be redefined; give the custom role another name", entry)
		}
		if first, ok := names.repeat(r.Name, r.Line); ok {
			return fail(r.Line, "%s is already listed on line %d", entry, first)
		}
		if err := checkRights(r.Rights); err != nil {
			return fail(r.Line, "%s: %w", entry, err)
		}

		if err := l.saveRole(r); err != nil {
			return err
		}
	}
	return nil
}

func checkRights(rights []access.Right) error {
	for i, r := range rights {
		if !access.IsKnown(r) {
			known := make([]string, len(access.AllRights))
			for i, k := range access.AllRights {
				known[i] = string(k)
			}
			return fmt.Errorf("unknown right %q; the known rights are %s", r, strings.Join(known, ", "))
		}
		if slices.Contains(rights[:i], r) {
			return fmt.Errorf("right %q is listed twice", r)
		}
	}
	return nil
}

func (l *loader) saveRole(r SeedRole) error {
	entry := entryName("role", r.Name)

	var existing role
	found, err := find(l.tx, &existing, "name = ?", r.Name)
	if err != nil {
		return fail(r.Line, "%s: look up: %w", entry, err)
	}
	if found && existing.Builtin {
		return fail(r.Line, "%s is a built-in role and cannot be redefined; give the custom role another name", entry)
	}

	rights := make([]string, len(r.Rights))
	for i, right := range r.Rights {
		rights[i] = string(right)
	}
	if !found || !slices.Equal(existing.Rights, rights) {
		if err := saveRole(l.tx, r.Name, r.Rights, false); err != nil {
			return fail(r.Line, "%s: save: %w", entry, err)
		}
		if found {
			l.report.Roles.Updated++
		} else {
			l.report.Roles.Created++
		}
	}
	return nil
}

// clientID returns the ID of the client with the extId, or 0 when there is
// none.
func (l *loader) clientID(extID string) (int64, error) {
	if id, ok := l.clients[extID]; ok {
		return id, nil
	}

	var c client
	found, err := find(l.tx.Select("id"), &c, "ext_id = ?", extID)
	if err != nil || !found {
		return 0, err
	}
	l.clients[extID] = c.ID
	return c.ID, nil
}

// roleID returns the ID of the built-in or custom role with the name, or 0
// when there is none.
func (l *loader) roleID(name string) (int64, error) {
	if id, ok := l.roles[name]; ok {
		return id, nil
	}

	var r role
	found, err := find(l.tx.Select("id"), &r, "name = ?", name)
	if err != nil || !found {
		return 0, err
	}
	l.roles[name] = r.ID
	return r.ID, nil
}

// userOwner returns the user with the extId, with ID 0 when there is none.
func (l *loader) userOwner(extID string) (userOwner, error) {
	if u, ok := l.users[extID]; ok {
		return u, nil
	}

	var u userOwner
	res := l.tx.Raw(`
		SELECT u.id, u.client_id, c.ext_id AS client_ext_id
		FROM users u JOIN clients c ON c.id = u.client_id
		WHERE u.ext_id = ?`, extID).Scan(&u)
	if res.Error != nil || res.RowsAffected == 0 {
		return userOwner{}, res.Error
	}
	l.users[extID] = u
	return u, nil
}

func (l *loader) loadUsers(entries []SeedUser) error {
	extIDs, loginIDs := firstLines{}, firstLines{}
	for _, u := range entries {
		entry := entryName("user", u.ExtID)
		if err := checkText("extId", u.ExtID, maxIDLen); err != nil {
			return fail(u.Line, "%s: %w", entry, err)
		}
		if err := checkText("client", u.Client, maxIDLen); err != nil {
			return fail(u.Line, "%s: %w", entry, err)
		}
		if u.LoginID != nil && *u.LoginID == "" {
			return fail(u.Line, "%s: loginId is empty; omit it for a user without one", entry)
		}
		if u.LoginID != nil {
			if err := checkLen("loginId", *u.LoginID, maxIDLen); err != nil {
				return fail(u.Line, "%s: %w", entry, err)
			}
		}
		if first, ok := extIDs.repeat(u.ExtID, u.Line); ok {
			return fail(u.Line, "%s is already listed on line %d", entry, first)
		}
		if u.LoginID != nil {
			key := u.Client + "\x00" + *u.LoginID
			if first, ok := loginIDs.repeat(key, u.Line); ok {
				return fail(u.Line, "%s: loginId %q is already used on client %q on line %d",
					entry, *u.LoginID, u.Client, first)
			}
		}

		if err := l.saveUser(u); err != nil {
			return err
		}
	}
	return nil
}

// resolvedAssignment is a role assignment of the seed with its IDs, and its
// dataroom's client extIds sorted for comparison with stored assignments.
type resolvedAssignment struct {
	role      string
	roleID    int64
	clients   []string
	clientIDs []int64
}

func (l *loader) saveUser(u SeedUser) error {
	entry := entryName("user", u.ExtID)

	clientID, err := l.clientID(u.Client)
	if err != nil {
		return fail(u.Line, "%s: look up client: %w", entry, err)
	}
	if clientID == 0 {
		return fail(u.Line, "%s: client %q not found; list it under clients", entry, u.Client)
	}

	assignments, err := l.resolveAssignments(entry, u.Roles)
	if err != nil {
		return err
	}

	var existing user
	found, err := find(l.tx, &existing, "ext_id = ?", u.ExtID)
	if err != nil {
		return fail(u.Line, "%s: look up: %w", entry, err)
	}
	if found && existing.ClientID != clientID {
		var stored client
		if err := l.tx.Select("ext_id").Take(&stored, existing.ClientID).Error; err != nil {
			return fail(u.Line, "%s: look up client: %w", entry, err)
		}
		return fail(u.Line, "%s is stored on client %q and cannot move to client %q",
			entry, stored.ExtID, u.Client)
	}

	if u.LoginID != nil {
		var other user
		found, err := find(l.tx, &other, "client_id = ? AND login_id = ? AND ext_id <> ?",
			clientID, *u.LoginID, u.ExtID)
		if err != nil {
			return fail(u.Line, "%s: check loginId: %w", entry, err)
		}
		if found {
			return fail(u.Line, "%s: loginId %q is already used by user %q on client %q",
				entry, *u.LoginID, other.ExtID, u.Client)
		}
	}

	changed := false
	switch {
	case !found:
		existing = user{ClientID: clientID, ExtID: u.ExtID, LoginID: u.LoginID}
		if err := l.tx.Create(&existing).Error; err != nil {
			return fail(u.Line, "%s: create: %w", entry, err)
		}
	case !equalPtr(existing.LoginID, u.LoginID):
		if err := l.tx.Model(&existing).Update("login_id", u.LoginID).Error; err != nil {
			return fail(u.Line, "%s: update: %w", entry, err)
		}
		changed = true
	}
	l.users[u.ExtID] = userOwner{ID: existing.ID, ClientID: clientID, ClientExtID: u.Client}

	replaced, err := l.replaceAssignments(existing.ID, assignments)
	if err != nil {
		return fail(u.Line, "%s: save role assignments: %w", entry, err)
	}

	switch {
	case !found:
		l.report.Users.Created++
	case changed || replaced:
		l.report.Users.Updated++
	}
	return nil
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (l *loader) resolveAssignments(user string, entries []SeedRoleAssignment) ([]resolvedAssignment, error) {
	roles := firstLines{}
	resolved := make([]resolvedAssignment, 0, len(entries))
	for _, a := range entries {
		if a.Name == "" {
			return nil, fail(a.Line, "%s: role name is missing", user)
		}
		if first, ok := roles.repeat(a.Name, a.Line); ok {
			return nil, fail(a.Line, "%s: role %q is already assigned on line %d; list all its clients in one dataroom",
				user, a.Name, first)
		}

		roleID, err := l.roleID(a.Name)
		if err != nil {
			return nil, fail(a.Line, "%s: look up role %q: %w", user, a.Name, err)
		}
		if roleID == 0 {
			return nil, fail(a.Line, "%s: role %q not found; use a built-in role or list it under roles",
				user, a.Name)
		}

		r := resolvedAssignment{role: a.Name, roleID: roleID}
		for i, extID := range a.Clients {
			if slices.Contains(a.Clients[:i], extID) {
				return nil, fail(a.Line, "%s: role %q lists client %q twice", user, a.Name, extID)
			}
			id, err := l.clientID(extID)
			if err != nil {
				return nil, fail(a.Line, "%s: look up client %q: %w", user, extID, err)
			}
			if id == 0 {
				return nil, fail(a.Line, "%s: role %q: client %q not found; list it under clients",
					user, a.Name, extID)
			}
			r.clients = append(r.clients, extID)
			r.clientIDs = append(r.clientIDs, id)
		}
		slices.Sort(r.clients)
		resolved = append(resolved, r)
	}
	return resolved, nil
}

// replaceAssignments makes want the user's role assignments and reports
// whether that changed them.
func (l *loader) replaceAssignments(userID int64, want []resolvedAssignment) (bool, error) {
	var stored []roleAssignment
	err := l.tx.Preload("Role").Preload("Clients").Where("user_id = ?", userID).Find(&stored).Error
	if err != nil {
		return false, err
	}
	if sameAssignments(stored, want) {
		return false, nil
	}

	err = l.tx.Exec(`
		DELETE FROM role_assignment_clients WHERE role_assignment_id IN
		(SELECT id FROM role_assignments WHERE user_id = ?)`, userID).Error
	if err != nil {
		return false, err
	}
	if err := l.tx.Where("user_id = ?", userID).Delete(&roleAssignment{}).Error; err != nil {
		return false, err
	}

	for _, a := range want {
		ra := roleAssignment{UserID: userID, RoleID: a.roleID}
		for _, id := range a.clientIDs {
			ra.Clients = append(ra.Clients, client{ID: id})
		}
		// Omitting Clients.* writes the join rows without upserting the
		// clients, which contain only their IDs here.
		if err := l.tx.Omit("Clients.*").Create(&ra).Error; err != nil {
			return false, err
		}
	}
	return true, nil
}

func sameAssignments(stored []roleAssignment, want []resolvedAssignment) bool {
	if len(stored) != len(want) {
		return false
	}

	byRole := make(map[string][]string, len(stored))
	for _, a := range stored {
		clients := make([]string, 0, len(a.Clients))
		for _, c := range a.Clients {
			clients = append(clients, c.ExtID)
		}
		slices.Sort(clients)
		byRole[a.Role.Name] = clients
	}

	for _, a := range want {
		clients, ok := byRole[a.role]
		if !ok || !slices.Equal(clients, a.clients) {
			return false
		}
	}
	return true
}

func (l *loader) loadProperties(entries []SeedProperty) error {
	keys := firstLines{}
	for _, p := range entries {
		entry := entryName("property", p.Name)
		if p.Client != "" {
			entry += fmt.Sprintf(" of client %q", p.Client)
		}
		if err := checkDefinition(p); err != nil {
			return fail(p.Line, "%s: %w", entry, err)
		}
		if first, ok := keys.repeat(p.Name+"\x00"+p.Client, p.Line); ok {
			return fail(p.Line, "%s is already listed on line %d", entry, first)
		}

		if err := l.saveProperty(entry, p); err != nil {
			return err
		}
	}
	return nil
}

// checkDefinition returns the first invalid setting of p.
func checkDefinition(p SeedProperty) error {
	if err := checkText("name", p.Name, maxIDLen); err != nil {
		return err
	}
	if err := checkLen("description", p.Description, maxTextLen); err != nil {
		return err
	}
	if err := checkOneOf("uniquenessScope", p.UniquenessScope, UniquenessNone, UniquenessAbsolute); err != nil {
		return err
	}
	if err := checkOneOf("accessCreate", p.AccessCreate, AccessReadWrite, AccessReadOnly, AccessOff); err != nil {
		return err
	}
	if err := checkOneOf("accessModify", p.AccessModify, AccessReadWrite, AccessReadOnly, AccessOff); err != nil {
		return err
	}

	switch p.Type {
	case TypeEnum:
		return checkEnum(p)
	case "", TypeString:
		return checkString(p)
	}
	return fmt.Errorf("invalid type %q; use %s or %s", p.Type, TypeString, TypeEnum)
}

// checkOneOf accepts an empty value, which means the default (the first
// choice), or one of choices.
func checkOneOf(field, value string, choices ...string) error {
	if value == "" || slices.Contains(choices, value) {
		return nil
	}
	return fmt.Errorf("invalid %s %q; use one of %s", field, value, strings.Join(choices, ", "))
}

func checkEnum(p SeedProperty) error {
	if len(p.AllowedValues) == 0 {
		return errors.New("type ENUM needs at least one value in allowedValues")
	}
	if p.StringMaxLen != nil || p.StringRegex != nil {
		return errors.New("type ENUM takes no stringMaxLen or stringRegex; its allowedValues are the only rule")
	}
	for i, v := range p.AllowedValues {
		if v == "" {
			return errors.New("allowedValues contains an empty value, which no credential can store because an empty value deletes the property")
		}
		if err := checkLen("an allowed value", v, DefaultMaxLen); err != nil {
			return err
		}
		if slices.Contains(p.AllowedValues[:i], v) {
			return fmt.Errorf("allowedValues lists %q twice", v)
		}
	}
	return nil
}

func checkString(p SeedProperty) error {
	if len(p.AllowedValues) > 0 {
		return errors.New("allowedValues needs type ENUM")
	}
	if p.StringMaxLen != nil && *p.StringMaxLen <= 0 {
		return fmt.Errorf("stringMaxLen is %d; it must be at least 1", *p.StringMaxLen)
	}
	if p.StringRegex == nil {
		return nil
	}

	if *p.StringRegex == "" {
		return errors.New("stringRegex is empty; omit it for values without a pattern")
	}
	if err := checkLen("stringRegex", *p.StringRegex, maxTextLen); err != nil {
		return err
	}
	if _, err := compileWhole(*p.StringRegex); err != nil {
		return fmt.Errorf("stringRegex is not a valid Go (RE2) regular expression: %w", err)
	}
	return nil
}

func (l *loader) saveProperty(entry string, p SeedProperty) error {
	want := propertyDefinition{
		Name:            p.Name,
		Scope:           ScopeGenericCredential,
		Type:            cmp.Or(p.Type, TypeString),
		AllowedValues:   p.AllowedValues,
		StringMaxLen:    p.StringMaxLen,
		StringRegex:     p.StringRegex,
		UniquenessScope: cmp.Or(p.UniquenessScope, UniquenessNone),
		AccessCreate:    cmp.Or(p.AccessCreate, AccessReadWrite),
		AccessModify:    cmp.Or(p.AccessModify, AccessReadWrite),
		Description:     p.Description,
	}

	query := l.tx.Where("scope = ? AND name = ?", ScopeGenericCredential, p.Name)
	if p.Client == "" {
		query = query.Where("client_id IS NULL")
	} else {
		id, err := l.clientID(p.Client)
		if err != nil {
			return fail(p.Line, "%s: look up client: %w", entry, err)
		}
		if id == 0 {
			return fail(p.Line, "%s: client %q not found; list it under clients", entry, p.Client)
		}
		want.ClientID = &id
		query = query.Where("client_id = ?", id)
	}

	var existing propertyDefinition
	res := query.Limit(1).Find(&existing)
	if res.Error != nil {
		return fail(p.Line, "%s: look up: %w", entry, res.Error)
	}
	if res.RowsAffected == 0 {
		if err := l.tx.Create(&want).Error; err != nil {
			return fail(p.Line, "%s: create: %w", entry, err)
		}
		l.report.Properties.Created++
		return nil
	}
	if sameDefinition(existing, want) {
		return nil
	}

	if err := l.updateDefinition(entry, p.Line, existing, want); err != nil {
		return err
	}
	l.report.Properties.Updated++
	return nil
}

func sameDefinition(a, b propertyDefinition) bool {
	return a.Type == b.Type &&
		slices.Equal(a.AllowedValues, b.AllowedValues) &&
		equalPtr(a.StringMaxLen, b.StringMaxLen) &&
		equalPtr(a.StringRegex, b.StringRegex) &&
		a.UniquenessScope == b.UniquenessScope &&
		a.AccessCreate == b.AccessCreate &&
		a.AccessModify == b.AccessModify &&
		a.Description == b.Description
}

// updateDefinition writes want over the stored definition and keeps the
// unique_value column of its values in step with its uniqueness scope.
func (l *loader) updateDefinition(entry string, line int, existing, want propertyDefinition) error {
	// Updates below copies want into existing, so compare scopes first.
	scopeChanged := existing.UniquenessScope != want.UniquenessScope
	toAbsolute := scopeChanged && want.UniquenessScope == UniquenessAbsolute
	if toAbsolute {
		if err := l.checkShared(entry, line, existing.ID); err != nil {
			return err
		}
	}

	err := l.tx.Model(&existing).
		Select("type", "allowed_values", "string_max_len", "string_regex",
			"uniqueness_scope", "access_create", "access_modify", "description").
		Updates(&want).Error
	if err != nil {
		return fail(line, "%s: update: %w", entry, err)
	}

	if !scopeChanged {
		return nil
	}
	var unique any // NULL
	if toAbsolute {
		unique = gorm.Expr("value")
	}
	err = l.tx.Model(&propertyValue{}).Where("definition_id = ?", existing.ID).
		Update("unique_value", unique).Error
	if err != nil {
		return fail(line, "%s: update uniqueness of stored values: %w", entry, err)
	}
	return nil
}

// checkShared returns an error naming two credentials that have the same
// value of the definition, if any do.
func (l *loader) checkShared(entry string, line int, definitionID int64) error {
	var pair struct {
		First  string
		Second string
	}
	res := l.tx.Raw(`
		SELECT g1.ext_id AS first, g2.ext_id AS second
		FROM property_values a
		JOIN property_values b ON b.definition_id = a.definition_id
			AND b.value = a.value AND b.id > a.id
		JOIN generic_credentials g1 ON g1.id = a.credential_id
		JOIN generic_credentials g2 ON g2.id = b.credential_id
		WHERE a.definition_id = ?
		ORDER BY g1.ext_id, g2.ext_id
		LIMIT 1`, definitionID).Scan(&pair)
	if res.Error != nil {
		return fail(line, "%s: check stored values: %w", entry, res.Error)
	}
	if res.RowsAffected > 0 {
		return fail(line, "%s: cannot switch uniquenessScope to ABSOLUTE because credentials %q and %q have the same value; change one of them first",
			entry, pair.First, pair.Second)
	}
	return nil
}

func (l *loader) loadCredentials(entries []SeedCredential) error {
	extIDs := firstLines{}
	for _, c := range entries {
		entry := entryName("credential", c.ExtID)
		if err := checkText("extId", c.ExtID, maxIDLen); err != nil {
			return fail(c.Line, "%s: %w", entry, err)
		}
		if err := checkText("user", c.User, maxIDLen); err != nil {
			return fail(c.Line, "%s: %w", entry, err)
		}
		if err := checkText("identification", c.Identification, maxIDLen); err != nil {
			return fail(c.Line, "%s: %w", entry, err)
		}
		if c.StateName != "" && !slices.Contains(States, c.StateName) {
			return fail(c.Line, "%s: invalid stateName %q; use one of %s",
				entry, c.StateName, strings.Join(States, ", "))
		}
		if first, ok := extIDs.repeat(c.ExtID, c.Line); ok {
			return fail(c.Line, "%s is already listed on line %d", entry, first)
		}

		if err := l.saveCredential(entry, c); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) saveCredential(entry string, c SeedCredential) error {
	owner, err := l.userOwner(c.User)
	if err != nil {
		return fail(c.Line, "%s: look up user: %w", entry, err)
	}
	if owner.ID == 0 {
		return fail(c.Line, "%s: user %q not found; list it under users", entry, c.User)
	}

	var existing genericCredential
	found, err := find(l.tx, &existing, "ext_id = ?", c.ExtID)
	if err != nil {
		return fail(c.Line, "%s: look up: %w", entry, err)
	}
	if found && existing.UserID != owner.ID {
		var stored user
		if err := l.tx.Select("ext_id").Take(&stored, existing.UserID).Error; err != nil {
			return fail(c.Line, "%s: look up user: %w", entry, err)
		}
		return fail(c.Line, "%s belongs to user %q and cannot move to user %q",
			entry, stored.ExtID, c.User)
	}

	state := cmp.Or(c.StateName, StateActive)
	changed := false
	switch {
	case !found:
		existing = genericCredential{
			UserID: owner.ID, ExtID: c.ExtID, Identification: c.Identification, State: state,
		}
		if err := l.tx.Create(&existing).Error; err != nil {
			return fail(c.Line, "%s: create: %w", entry, err)
		}
	case existing.Identification != c.Identification || existing.State != state:
		err := l.tx.Model(&existing).Updates(map[string]any{
			"identification": c.Identification,
			"state":          state,
		}).Error
		if err != nil {
			return fail(c.Line, "%s: update: %w", entry, err)
		}
		changed = true
	}

	valuesChanged, err := l.applyProperties(owner, existing.ID, c.Properties)
	if err != nil {
		return &LoadError{Line: c.Line, Err: fmt.Errorf("%s: %w", entry, err)}
	}

	switch {
	case !found:
		l.report.Credentials.Created++
	case changed || valuesChanged:
		l.report.Credentials.Updated++
	}
	return nil
}

// applyProperties changes the credential's values with the plan of
// UpdateProperties, as a caller who overrides access modes, and reports
// whether any value changed.
func (l *loader) applyProperties(owner userOwner, credentialID int64, changes map[string]*string) (bool, error) {
	if len(changes) == 0 {
		return false, nil
	}

	values, err := loadValues(l.tx, credentialID)
	if err != nil {
		return false, err
	}
	defs, err := resolveDefinitions(l.tx, owner.ClientID, changes)
	if err != nil {
		return false, err
	}

	p := planChanges(changes, defs, currentByName(values))
	err = p.checkAccess(OverrideAccess)
	if err == nil {
		err = p.validate(l.tx, credentialID)
	}
	if err == nil {
		err = p.apply(l.tx, credentialID)
	}

	var invalid *ValidationError
	if errors.As(err, &invalid) {
		return false, fmt.Errorf("%w: %s", invalid, describeViolations(invalid, owner.ClientExtID))
	}
	if err != nil {
		return false, err
	}

	changed := slices.ContainsFunc(p.changes, func(c change) bool { return !c.noop() })
	return changed, nil
}

// describeViolations explains each violation without the value itself,
// which may be confidential.
func describeViolations(e *ValidationError, clientExtID string) string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		var rule string
		switch v.Rule {
		case RuleUnknownProperty:
			rule = fmt.Sprintf("no definition exists for client %q; list it under properties", clientExtID)
		case RuleAllowedValues:
			rule = "the value is not one of the allowed values " + strings.Join(v.AllowedValues, ", ")
		case RuleMaxLen:
			rule = fmt.Sprintf("the value has %d characters, more than the maximum of %d", v.Length, v.MaxLen)
		case RuleRegex:
			rule = fmt.Sprintf("the value does not match stringRegex %q", v.Regex)
		case RuleRegexInvalid:
			rule = fmt.Sprintf("its stringRegex %q is not a valid regular expression", v.Regex)
		case RuleUnique:
			rule = "another credential already has the value, and uniquenessScope is ABSOLUTE"
		default:
			rule = "the value breaks a property rule"
		}
		parts[i] = fmt.Sprintf("property %q: %s", v.Property, rule)
	}
	return strings.Join(parts, "; ")
}
