package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

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

	values, err := loadValues(l.tx, credentialID, owner.ClientID)
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
