package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

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
