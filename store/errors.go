package store

import (
	"errors"
	"fmt"
)

// Entity names the kind of record that a NotFoundError is about.
type Entity int

// The entities on the path to a generic credential, outermost first.
const (
	EntityClient Entity = iota + 1
	EntityUser
	EntityCredential
)

// NotFoundError reports that the client, the user on that client, or the
// credential of that user named by Ref does not exist.
type NotFoundError struct {
	Entity Entity
	Ref    CredentialRef
	// ClientName is the name of the client that exists, set when Entity is
	// EntityUser or EntityCredential.
	ClientName string
}

func (e *NotFoundError) Error() string {
	switch e.Entity {
	case EntityClient:
		return fmt.Sprintf("client %q not found", e.Ref.ClientExtID)
	case EntityUser:
		return fmt.Sprintf("user %q not found on client %q", e.Ref.UserExtID, e.Ref.ClientExtID)
	default:
		return fmt.Sprintf("generic credential %q not found under user %q", e.Ref.ExtID, e.Ref.UserExtID)
	}
}

// ErrArchived is returned when a change targets an archived credential.
var ErrArchived = errors.New("generic credential is archived")

// Operation is the kind of change to a stored value that access modes
// govern: creating a value (accessCreate), or modifying or deleting one
// (accessModify).
type Operation int

// The operations that access modes govern.
const (
	OperationCreate Operation = iota + 1
	OperationModify
)

// AccessDenial names a property whose access mode forbids the change.
type AccessDenial struct {
	Property  string
	Operation Operation
	// Mode is the access mode that forbade it: READ_ONLY or OFF.
	Mode string
}

// AccessError lists the denied properties, sorted by name.
type AccessError struct {
	Denials []AccessDenial
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("access to %d properties denied", len(e.Denials))
}

// Rule names the property rule that a value breaks.
type Rule int

// The property rules, in the order they are checked for one value.
const (
	RuleUnknownProperty Rule = iota + 1
	RuleAllowedValues
	RuleMaxLen
	RuleRegex
	// RuleRegexInvalid means the definition's own regular expression does
	// not compile, so no value can be checked against it.
	RuleRegexInvalid
	RuleUnique
)

// Violation is the first rule that one property's new value breaks.
type Violation struct {
	Property string
	Rule     Rule
	Value    string
	// MaxLen and Length are the limit and the value's length in
	// characters, set for RuleMaxLen.
	MaxLen int
	Length int
	// AllowedValues is set for RuleAllowedValues.
	AllowedValues []string
	// Regex is the definition's expression, set for RuleRegex and
	// RuleRegexInvalid.
	Regex string
}

// ValidationError lists one violation per failing property, sorted by
// property name.
type ValidationError struct {
	Violations []Violation
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid values of %d properties", len(e.Violations))
}
