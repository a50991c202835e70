package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CredentialRef names a generic credential by the external IDs of its
// client, its user and itself.
type CredentialRef struct {
	ClientExtID string
	UserExtID   string
	ExtID       string
}

// Access selects whether per-property access modes apply to a caller.
type Access int

// EnforceAccess applies accessCreate and accessModify and hides the values
// of properties whose accessModify is OFF. OverrideAccess bypasses them, for
// callers with AccessControl.PropertyAttributeAccessOverride.
const (
	EnforceAccess Access = iota
	OverrideAccess
)

// target is a credential looked up by CredentialRef; the IDs are nil where
// the path ends early.
type target struct {
	ClientID     int64
	ClientName   string
	UserID       *int64
	CredentialID *int64
	State        *string
}

// storedValue is one stored value with what access checks need of its
// definition.
type storedValue struct {
	ID           int64
	DefinitionID int64
	Name         string
	Value        string
	ClientID     *int64
	AccessModify string
}

// Properties returns the property map of the credential named by ref, or a
// *NotFoundError. With EnforceAccess, values of properties whose
// accessModify is OFF are left out.
func (s *Store) Properties(ctx context.Context, ref CredentialRef, access Access) (map[string]string, error) {
	db := s.read.WithContext(ctx)

	t, err := lookup(db, ref)
	if err != nil {
		return nil, err
	}

	values, err := loadValues(db, *t.CredentialID, t.ClientID)
	if err != nil {
		return nil, err
	}
	return visibleMap(values, access), nil
}

// UpdateProperties applies changes to the credential named by ref, all in
// one transaction, and returns its whole property map afterwards. A nil or
// empty value deletes the stored value. It returns, in this order of
// precedence, a *NotFoundError, ErrArchived, an *AccessError or a
// *ValidationError, and then nothing is changed.
func (s *Store) UpdateProperties(ctx context.Context, ref CredentialRef, changes map[string]*string, access Access) (map[string]string, error) {
	release, err := s.takeWriteTurn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	var result map[string]string
	err = s.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		t, err := lookup(tx, ref)
		if err != nil {
			return err
		}
		if *t.State == StateArchived {
			return ErrArchived
		}

		// On PostgreSQL this locks the credential's row, so concurrent
		// updates of one credential take turns; SQLite's write transaction
		// already holds the database lock, and GORM drops the clause there.
		if tx.Dialector.Name() != "sqlite" {
			err = tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
				Select("id").Take(&genericCredential{}, *t.CredentialID).Error
			if err != nil {
				return fmt.Errorf("lock generic credential: %w", err)
			}
		}

		values, err := loadValues(tx, *t.CredentialID, t.ClientID)
		if err != nil {
			return err
		}
		defs, err := resolveDefinitions(tx, t.ClientID, changes)
		if err != nil {
			return err
		}

		plan := planChanges(changes, defs, currentByName(values))
		if err := plan.checkAccess(access); err != nil {
			return err
		}
		if err := plan.validate(tx, *t.CredentialID); err != nil {
			return err
		}
		if err := plan.apply(tx, *t.CredentialID); err != nil {
			return err
		}

		result = plan.result(values, access)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// lookup finds the credential named by ref in one query that also shows
// whether the client, the user or the credential is missing.
func lookup(db *gorm.DB, ref CredentialRef) (target, error) {
	var t target
	res := db.Raw(`
		SELECT c.id AS client_id, c.name AS client_name,
		       u.id AS user_id, g.id AS credential_id, g.state AS state
		FROM clients c
		LEFT JOIN users u ON u.client_id = c.id AND u.ext_id = ?
		LEFT JOIN generic_credentials g ON g.user_id = u.id AND g.ext_id = ?
		WHERE c.ext_id = ?`,
		ref.UserExtID, ref.ExtID, ref.ClientExtID).Scan(&t)
	if res.Error != nil {
		return t, fmt.Errorf("look up generic credential: %w", res.Error)
	}

	switch {
	case res.RowsAffected == 0:
		return t, &NotFoundError{Entity: EntityClient, Ref: ref}
	case t.UserID == nil:
		return t, &NotFoundError{Entity: EntityUser, Ref: ref, ClientName: t.ClientName}
	case t.CredentialID == nil:
		return t, &NotFoundError{Entity: EntityCredential, Ref: ref, ClientName: t.ClientName}
	}
	return t, nil
}

// loadValues returns the credential's values. AccessModify is that of the
// definition that applies on the client, which can be a client-specific
// definition added after the value was stored under the global one.
func loadValues(db *gorm.DB, credentialID, clientID int64) ([]storedValue, error) {
	// The rows are scanned by hand because GORM's reflection-based Scan
	// costs more than the query.
	rows, err := db.Raw(`
		SELECT v.id, v.definition_id, d.name, v.value, d.client_id,
		       COALESCE(cd.access_modify, d.access_modify) AS access_modify
		FROM property_values v
		JOIN property_definitions d ON d.id = v.definition_id
		LEFT JOIN property_definitions cd
		       ON cd.scope = d.scope AND cd.name = d.name AND cd.client_id = ?
		WHERE v.credential_id = ?`, clientID, credentialID).Rows()
	if err != nil {
		return nil, fmt.Errorf("load property values: %w", err)
	}
	defer rows.Close()

	var values []storedValue
	for rows.Next() {
		var v storedValue
		err := rows.Scan(&v.ID, &v.DefinitionID, &v.Name, &v.Value, &v.ClientID, &v.AccessModify)
		if err != nil {
			return nil, fmt.Errorf("load property values: %w", err)
		}
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load property values: %w", err)
	}
	return values, nil
}

// currentByName keeps one value per property name: a value under a
// client-specific definition hides one under the global definition of the
// same name.
func currentByName(values []storedValue) map[string]storedValue {
	byName := make(map[string]storedValue, len(values))
	for _, v := range values {
		if prev, ok := byName[v.Name]; ok && prev.ClientID != nil {
			continue
		}
		byName[v.Name] = v
	}
	return byName
}

func visibleMap(values []storedValue, access Access) map[string]string {
	props := make(map[string]string, len(values))
	for name, v := range currentByName(values) {
		if access == EnforceAccess && v.AccessModify == AccessOff {
			continue
		}
		props[name] = v.Value
	}
	return props
}

// resolveDefinitions returns the definition of each changed name that
// applies on the client: the client's own definition first, then the
// global one.
func resolveDefinitions(tx *gorm.DB, clientID int64, changes map[string]*string) (map[string]propertyDefinition, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(changes))
	for name := range changes {
		names = append(names, name)
	}

	var found []propertyDefinition
	err := tx.Where("scope = ? AND name IN ? AND (client_id IS NULL OR client_id = ?)",
		ScopeGenericCredential, names, clientID).Find(&found).Error
	if err != nil {
		return nil, fmt.Errorf("load property definitions: %w", err)
	}

	defs := make(map[string]propertyDefinition, len(found))
	for _, d := range found {
		if prev, ok := defs[d.Name]; ok && prev.ClientID != nil {
			continue
		}
		defs[d.Name] = d
	}
	return defs, nil
}

// change is one property of a request, with what it does to the stored
// value.
type change struct {
	name    string
	value   string // empty for a deletion
	def     *propertyDefinition
	current *storedValue
}

func (c change) deletes() bool { return c.value == "" }

// noop reports whether the change leaves the stored value as it is:
// deleting an absent value, or setting the value already stored.
func (c change) noop() bool {
	if c.current == nil {
		return c.deletes()
	}
	return c.value == c.current.Value
}

type plan struct {
	changes []change // sorted by name
}

func planChanges(changes map[string]*string, defs map[string]propertyDefinition, current map[string]storedValue) plan {
	var p plan
	for name, value := range changes {
		c := change{name: name}
		if value != nil {
			c.value = *value
		}
		if d, ok := defs[name]; ok {
			c.def = &d
		}
		if v, ok := current[name]; ok {
			c.current = &v
		}
		p.changes = append(p.changes, c)
	}
	slices.SortFunc(p.changes, func(a, b change) int { return cmp.Compare(a.name, b.name) })
	return p
}

// checkAccess returns an *AccessError naming each known property whose
// access mode forbids its change. Unknown properties are left to validate.
func (p plan) checkAccess(access Access) error {
	if access == OverrideAccess {
		return nil
	}

	var denials []AccessDenial
	for _, c := range p.changes {
		if c.def == nil {
			continue
		}
		if c.def.AccessModify == AccessOff {
			// The property is hidden, so every change of it is denied
			// alike. The response then shows neither whether a value is
			// stored nor, through a change that would be a no-op, what it is.
			denials = append(denials, AccessDenial{Property: c.name, Operation: OperationModify, Mode: AccessOff})
			continue
		}
		if c.noop() {
			continue
		}
		op, mode := OperationCreate, c.def.AccessCreate
		if c.current != nil {
			op, mode = OperationModify, c.def.AccessModify
		}
		if mode != AccessReadWrite {
			denials = append(denials, AccessDenial{Property: c.name, Operation: op, Mode: mode})
		}
	}
	if len(denials) > 0 {
		return &AccessError{Denials: denials}
	}
	return nil
}

// validate returns a *ValidationError with the first broken rule of each
// failing property.
func (p plan) validate(tx *gorm.DB, credentialID int64) error {
	var violations []Violation
	for _, c := range p.changes {
		v, err := c.violation(tx, credentialID)
		if err != nil {
			return err
		}
		if v != nil {
			violations = append(violations, *v)
		}
	}
	if len(violations) > 0 {
		return &ValidationError{Violations: violations}
	}
	return nil
}

func (c change) violation(tx *gorm.DB, credentialID int64) (*Violation, error) {
	if c.def == nil {
		return &Violation{Property: c.name, Rule: RuleUnknownProperty, Value: c.value}, nil
	}
	if c.deletes() || c.noop() {
		return nil, nil
	}
	if v := checkValue(c.def, c.value); v != nil {
		v.Property = c.name
		return v, nil
	}
	if c.def.UniquenessScope != UniquenessAbsolute {
		return nil, nil
	}

	var holders int64
	err := tx.Model(&propertyValue{}).
		Where("definition_id = ? AND unique_value = ? AND credential_id <> ?", c.def.ID, c.value, credentialID).
		Count(&holders).Error
	if err != nil {
		return nil, fmt.Errorf("check uniqueness of %s: %w", c.name, err)
	}
	if holders > 0 {
		return &Violation{Property: c.name, Rule: RuleUnique, Value: c.value}, nil
	}
	return nil, nil
}

// checkValue returns the first rule of def that value breaks, without its
// Property, or nil. It does not check uniqueness.
func checkValue(def *propertyDefinition, value string) *Violation {
	if def.Type == TypeEnum {
		if !slices.Contains(def.AllowedValues, value) {
			return &Violation{Rule: RuleAllowedValues, Value: value, AllowedValues: def.AllowedValues}
		}
		return nil
	}

	maxLen := DefaultMaxLen
	if def.StringMaxLen != nil {
		maxLen = *def.StringMaxLen
	}
	if n := utf8.RuneCountInString(value); n > maxLen {
		return &Violation{Rule: RuleMaxLen, Value: value, MaxLen: maxLen, Length: n}
	}

	if def.StringRegex != nil {
		re, err := compileWhole(*def.StringRegex)
		if err != nil {
			return &Violation{Rule: RuleRegexInvalid, Value: value, Regex: *def.StringRegex}
		}
		if !re.MatchString(value) {
			return &Violation{Rule: RuleRegex, Value: value, Regex: *def.StringRegex}
		}
	}
	return nil
}

// compiled caches the anchored form of each definition's expression.
var compiled sync.Map // string -> *regexp.Regexp

// compileWhole compiles expr so that it must match a whole value. It
// compiles expr alone first, so that an expression such as `a)|(.*` cannot
// close the anchoring group and match anything.
func compileWhole(expr string) (*regexp.Regexp, error) {
	if re, ok := compiled.Load(expr); ok {
		return re.(*regexp.Regexp), nil
	}
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, err
	}
	compiled.Store(expr, re)
	return re, nil
}

// apply writes the changes. A unique index violation, which only a
// concurrent writer on another connection can cause after validate, becomes
// a *ValidationError for that property.
func (p plan) apply(tx *gorm.DB, credentialID int64) error {
	now := time.Now().UTC()
	changed := false

	for _, c := range p.changes {
		if c.noop() {
			continue
		}
		changed = true

		err := c.write(tx, credentialID, now)
		if errors.Is(err, gorm.ErrDuplicatedKey) && c.def.UniquenessScope == UniquenessAbsolute {
			return &ValidationError{Violations: []Violation{{Property: c.name, Rule: RuleUnique, Value: c.value}}}
		}
		if err != nil {
			return fmt.Errorf("write property %s: %w", c.name, err)
		}
	}

	if !changed {
		return nil
	}
	err := tx.Model(&genericCredential{}).Where("id = ?", credentialID).
		Update("updated_at", now).Error
	if err != nil {
		return fmt.Errorf("touch generic credential: %w", err)
	}
	return nil
}

func (c change) write(tx *gorm.DB, credentialID int64, now time.Time) error {
	if c.deletes() {
		return tx.Delete(&propertyValue{}, c.current.ID).Error
	}

	var unique *string
	if c.def.UniquenessScope == UniquenessAbsolute {
		unique = &c.value
	}
	if c.current != nil {
		// Setting definition_id moves a value stored under the global
		// definition to the client's own definition of the same name.
		return tx.Model(&propertyValue{}).Where("id = ?", c.current.ID).Updates(map[string]any{
			"definition_id": c.def.ID,
			"value":         c.value,
			"unique_value":  unique,
			"updated_at":    now,
		}).Error
	}
	return tx.Create(&propertyValue{
		CredentialID: credentialID,
		DefinitionID: c.def.ID,
		Value:        c.value,
		UniqueValue:  unique,
		CreatedAt:    now,
		UpdatedAt:    now,
	}).Error
}

// result returns the property map after apply, built from the values read
// before it and the changes.
func (p plan) result(before []storedValue, access Access) map[string]string {
	byName := currentByName(before)
	for _, c := range p.changes {
		if c.noop() {
			continue
		}
		if c.deletes() {
			delete(byName, c.name)
			continue
		}
		byName[c.name] = storedValue{Name: c.name, Value: c.value, AccessModify: c.def.AccessModify}
	}

	props := make(map[string]string, len(byName))
	for name, v := range byName {
		if access == EnforceAccess && v.AccessModify == AccessOff {
			continue
		}
		props[name] = v.Value
	}
	return props
}
