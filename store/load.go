package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"credprops/access"
)

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
