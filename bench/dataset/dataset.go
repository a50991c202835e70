// Package dataset names the rows of the load test's data set, so that the
// seed program, the SQLite ceiling and bench/requests.lua agree on them.
package dataset

import "fmt"

const (
	// ClientExtID is the one client of the data set, from bench/data.yaml.
	ClientExtID = "bench"
	// Properties is the number of properties each credential has a value
	// of, prop00 to prop09 in bench/data.yaml.
	Properties = 10
	// CredentialsPerUser is the number of credentials of each user.
	CredentialsPerUser = 10
)

// UserExtID returns the extId of user i, counted from 0.
func UserExtID(i int) string { return fmt.Sprintf("u%06d", i) }

// CredentialExtID returns the extId of credential i, counted from 0. It
// belongs to user i / CredentialsPerUser.
func CredentialExtID(i int) string { return fmt.Sprintf("c%07d", i) }

// PropertyName returns the name of property i, counted from 0.
func PropertyName(i int) string { return fmt.Sprintf("prop%02d", i) }
