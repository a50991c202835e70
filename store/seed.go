package store

import (
	"fmt"
	"log/slog"
	"strings"

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
