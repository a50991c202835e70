// Command sqlite measures the write ceiling of a PATCH of one property: the
// same SQL transaction through database/sql, with store.SQLiteDSN's settings
// and one writer connection, and no HTTP, JSON, authentication or GORM.
//
// Each transaction (BEGIN IMMEDIATE) picks a random credential of the seeded
// data set and looks it up by the extIds of its client, its user and
// itself. It reads the credential's values and resolves the definition of
// prop01. Then it updates that value, or inserts it when missing, and sets
// the credential's updated_at. The PATCH also
// runs a SELECT of the credential's id, a row lock on PostgreSQL that does
// nothing on SQLite; this program leaves it out.
//
// It prints one line of the same form as bench/requests.lua's.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"credprops/bench/dataset"
	"credprops/store"
)

func main() {
	db := flag.String("db", "", "seeded credprops SQLite database file; required")
	credentials := flag.Int("credentials", 100, "number of seeded credentials to pick from")
	workers := flag.Int("workers", 1, "number of goroutines that share the one writer connection")
	requests := flag.Int("requests", 100000, "maximum number of transactions")
	duration := flag.Duration("duration", 5*time.Second, "maximum run time")
	flag.Parse()

	if *db == "" || *credentials <= 0 || *workers <= 0 || *requests <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*db, *credentials, *workers, *requests, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling/sqlite:", err)
		os.Exit(1)
	}
}

func run(path string, credentials, workers, requests int, duration time.Duration) error {
	db, err := sql.Open("sqlite3", store.SQLiteDSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()

	var remaining atomic.Int64
	remaining.Store(int64(requests))
	latencies := make([][]time.Duration, workers)
	errs := make([]error, workers)

	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil && remaining.Add(-1) >= 0; n++ {
				credential := rand.IntN(credentials)
				value := fmt.Sprintf("w%d-%d", w, n)

				t := time.Now()
				err := patchOne(ctx, db, credential, value)
				if err != nil && ctx.Err() != nil {
					// The run's time is up. database/sql rolled the
					// transaction back, and err may be context's error or
					// sql.ErrTxDone, depending on where it struck.
					return
				} else if err != nil {
					errs[w] = err
					return
				}
				latencies[w] = append(latencies[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	if err := errors.Join(errs...); err != nil {
		return err
	}
	report(slices.Concat(latencies...), elapsed)
	return nil
}

// patchOne runs the SQL of one PATCH that sets prop01 of the credential.
func patchOne(ctx context.Context, db *sql.DB, credential int, value string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var clientID, credentialID int64
	var clientName, state string
	var userID sql.NullInt64
	err = tx.QueryRowContext(ctx, `
		SELECT c.id AS client_id, c.name AS client_name,
		       u.id AS user_id, g.id AS credential_id, g.state AS state
		FROM clients c
		LEFT JOIN users u ON u.client_id = c.id AND u.ext_id = ?
		LEFT JOIN generic_credentials g ON g.user_id = u.id AND g.ext_id = ?
		WHERE c.ext_id = ?`,
		dataset.UserExtID(credential/dataset.CredentialsPerUser), dataset.CredentialExtID(credential),
		dataset.ClientExtID).Scan(&clientID, &clientName, &userID, &credentialID, &state)
	if err != nil {
		return fmt.Errorf("look up credential %d: %w", credential, err)
	}

	valueID, err := findValue(ctx, tx, credentialID, clientID, dataset.PropertyName(1))
	if err != nil {
		return err
	}

	var definitionID int64
	err = tx.QueryRowContext(ctx, `
		SELECT id FROM property_definitions
		WHERE scope = ? AND name IN (?) AND (client_id IS NULL OR client_id = ?)`,
		store.ScopeGenericCredential, dataset.PropertyName(1), clientID).Scan(&definitionID)
	if err != nil {
		return fmt.Errorf("load property definition: %w", err)
	}

	now := time.Now().UTC()
	if valueID != 0 {
		_, err = tx.ExecContext(ctx, `
			UPDATE property_values SET definition_id = ?, value = ?, unique_value = ?, updated_at = ?
			WHERE id = ?`, definitionID, value, nil, now, valueID)
	} else {
		_, err = tx.ExecContext(ctx, `
			INSERT INTO property_values (credential_id, definition_id, value, unique_value, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, credentialID, definitionID, value, nil, now, now)
	}
	if err != nil {
		return fmt.Errorf("write property value: %w", err)
	}

	_, err = tx.ExecContext(ctx, "UPDATE generic_credentials SET updated_at = ? WHERE id = ?", now, credentialID)
	if err != nil {
		return fmt.Errorf("touch credential: %w", err)
	}
	return tx.Commit()
}

// findValue reads every value of the credential with the access mode that
// applies on the client, as the PATCH does, and returns the ID of the named
// property's value, or 0.
func findValue(ctx context.Context, tx *sql.Tx, credentialID, clientID int64, name string) (int64, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT v.id, v.definition_id, d.name, v.value, d.client_id,
		       COALESCE(cd.access_modify, d.access_modify) AS access_modify
		FROM property_values v
		JOIN property_definitions d ON d.id = v.definition_id
		LEFT JOIN property_definitions cd
		       ON cd.scope = d.scope AND cd.name = d.name AND cd.client_id = ?
		WHERE v.credential_id = ?`, clientID, credentialID)
	if err != nil {
		return 0, fmt.Errorf("load property values: %w", err)
	}
	defer rows.Close()

	var found int64
	for rows.Next() {
		var id, definitionID int64
		var property, value, accessModify string
		var clientID sql.NullInt64
		if err := rows.Scan(&id, &definitionID, &property, &value, &clientID, &accessModify); err != nil {
			return 0, fmt.Errorf("load property values: %w", err)
		}
		if property == name {
			found = id
		}
	}
	return found, rows.Err()
}

// report prints the count, the run time and latency percentiles, in
// microseconds, in the form of bench/requests.lua's done function.
func report(latencies []time.Duration, elapsed time.Duration) {
	slices.Sort(latencies)
	percentile := func(p float64) int64 {
		if len(latencies) == 0 {
			return 0
		}
		i := min(len(latencies)-1, int(p/100*float64(len(latencies))))
		return latencies[i].Microseconds()
	}
	fmt.Printf("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d p999_us=%d errors=0 non2xx=0\n",
		len(latencies), elapsed.Microseconds(), percentile(50), percentile(99), percentile(99.9))
}
