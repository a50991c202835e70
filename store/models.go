package store

import "time"

// The GORM models below are the database schema. Every invariant that must
// hold across server instances is a constraint here: unique indexes, foreign
// keys and checks, so that PostgreSQL enforces the same rules as SQLite.

// Credential states, as nevisIDM names them.
const (
	StateInitial      = "initial"
	StateActive       = "active"
	StateTmpLocked    = "tmp-locked"
	StateFailLocked   = "fail-locked"
	StateResetCode    = "reset-code"
	StateAdminChanged = "admin-changed"
	StateDisabled     = "disabled"
	StateArchived     = "archived"
)

// States lists every credential state in lifecycle order.
var States = []string{
	StateInitial, StateActive, StateTmpLocked, StateFailLocked,
	StateResetCode, StateAdminChanged, StateDisabled, StateArchived,
}

// Property definition settings.
const (
	ScopeGenericCredential = "CREDENTIAL_GENERIC_GLOBAL"

	TypeString = "STRING"
	TypeEnum   = "ENUM"

	UniquenessNone     = "NONE"
	UniquenessAbsolute = "ABSOLUTE"

	AccessReadWrite = "READ_WRITE"
	AccessReadOnly  = "READ_ONLY"
	AccessOff       = "OFF"
)

// DefaultMaxLen is the maximum length, in characters, of a value whose
// definition sets no stringMaxLen.
const DefaultMaxLen = 4000

type client struct {
	ID        int64     `gorm:"primaryKey"`
	ExtID     string    `gorm:"size:255;not null;uniqueIndex"`
	Name      string    `gorm:"size:255;not null;uniqueIndex"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

type user struct {
	ID       int64   `gorm:"primaryKey"`
	ClientID int64   `gorm:"not null;index;uniqueIndex:idx_users_client_login,priority:1"`
	Client   *client `gorm:"constraint:OnDelete:RESTRICT"`
	// ExtID is unique across clients because a token's sub claim names a
	// user by extId alone.
	ExtID     string    `gorm:"size:255;not null;uniqueIndex"`
	LoginID   *string   `gorm:"size:255;uniqueIndex:idx_users_client_login,priority:2"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// role is a built-in or custom role. Built-in roles are written by migrate,
// so that role assignments reference every role through a foreign key.
type role struct {
	ID      int64    `gorm:"primaryKey"`
	Name    string   `gorm:"size:255;not null;uniqueIndex"`
	Builtin bool     `gorm:"not null"`
	Rights  []string `gorm:"serializer:json;not null"`
}

// roleAssignment gives a user a role inside a dataroom: the clients listed,
// or every client when the list is empty.
type roleAssignment struct {
	ID      int64    `gorm:"primaryKey"`
	UserID  int64    `gorm:"not null;uniqueIndex:idx_role_assignments_user_role,priority:1"`
	User    *user    `gorm:"constraint:OnDelete:CASCADE"`
	RoleID  int64    `gorm:"not null;index;uniqueIndex:idx_role_assignments_user_role,priority:2"`
	Role    *role    `gorm:"constraint:OnDelete:RESTRICT"`
	Clients []client `gorm:"many2many:role_assignment_clients;constraint:OnDelete:CASCADE"`
}

type genericCredential struct {
	ID             int64     `gorm:"primaryKey"`
	UserID         int64     `gorm:"not null;index"`
	User           *user     `gorm:"constraint:OnDelete:CASCADE"`
	ExtID          string    `gorm:"size:255;not null;uniqueIndex"`
	Identification string    `gorm:"size:255;not null"`
	State          string    `gorm:"size:32;not null;check:chk_generic_credentials_state,state IN ('initial','active','tmp-locked','fail-locked','reset-code','admin-changed','disabled','archived')"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// propertyDefinition is unique by scope and name among the global
// definitions, and by scope, name and client among the client-specific ones.
// Two partial indexes express that because NULL client IDs never collide in
// a plain unique index.
type propertyDefinition struct {
	ID              int64    `gorm:"primaryKey"`
	Name            string   `gorm:"size:255;not null;uniqueIndex:idx_property_definitions_global,priority:2,where:client_id IS NULL;uniqueIndex:idx_property_definitions_client,priority:2,where:client_id IS NOT NULL"`
	Scope           string   `gorm:"size:64;not null;uniqueIndex:idx_property_definitions_global,priority:1,where:client_id IS NULL;uniqueIndex:idx_property_definitions_client,priority:1,where:client_id IS NOT NULL"`
	ClientID        *int64   `gorm:"index;uniqueIndex:idx_property_definitions_client,priority:3,where:client_id IS NOT NULL"`
	Client          *client  `gorm:"constraint:OnDelete:CASCADE"`
	Type            string   `gorm:"size:16;not null;check:chk_property_definitions_type,type IN ('STRING','ENUM')"`
	AllowedValues   []string `gorm:"serializer:json"`
	StringMaxLen    *int     `gorm:"check:chk_property_definitions_max_len,string_max_len > 0"`
	StringRegex     *string  `gorm:"size:4000"`
	UniquenessScope string   `gorm:"size:16;not null;check:chk_property_definitions_uniqueness,uniqueness_scope IN ('NONE','ABSOLUTE')"`
	AccessCreate    string   `gorm:"size:16;not null;check:chk_property_definitions_access_create,access_create IN ('READ_WRITE','READ_ONLY','OFF')"`
	AccessModify    string   `gorm:"size:16;not null;check:chk_property_definitions_access_modify,access_modify IN ('READ_WRITE','READ_ONLY','OFF')"`
	Description     string   `gorm:"size:4000;not null"`
}

// propertyValue is one credential's value of one property. UniqueValue
// repeats Value when the definition is ABSOLUTE and is NULL otherwise, so the
// unique index over (definition, unique value) enforces absolute uniqueness
// in the database while NONE values never collide.
type propertyValue struct {
	ID           int64               `gorm:"primaryKey"`
	CredentialID int64               `gorm:"not null;uniqueIndex:idx_property_values_credential_definition,priority:1"`
	Credential   *genericCredential  `gorm:"constraint:OnDelete:CASCADE"`
	DefinitionID int64               `gorm:"not null;index;uniqueIndex:idx_property_values_credential_definition,priority:2;uniqueIndex:idx_property_values_unique,priority:1"`
	Definition   *propertyDefinition `gorm:"constraint:OnDelete:CASCADE"`
	Value        string              `gorm:"not null"`
	UniqueValue  *string             `gorm:"uniqueIndex:idx_property_values_unique,priority:2;check:chk_property_values_unique_value,unique_value IS NULL OR unique_value = value"`
	CreatedAt    time.Time           `gorm:"not null"`
	UpdatedAt    time.Time           `gorm:"not null"`
}

// setting is a named server setting kept in the database, such as the
// generated HS256 secret.
type setting struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value string `gorm:"not null"`
}

func allModels() []any {
	return []any{
		&client{}, &user{}, &role{}, &roleAssignment{}, &genericCredential{},
		&propertyDefinition{}, &propertyValue{}, &setting{},
	}
}
