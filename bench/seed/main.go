// Command seed adds users, generic credentials and property values to a
// credprops database in one SQL transaction, for the load test. The
// database must hold bench/data.yaml, applied with `credprops load`, and
// nothing of an earlier seed.
//
// Credential i (counted from 0) belongs to user i/10 of client bench and
// has a value of each of the ten properties prop00 to prop09.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"credprops/bench/dataset"
	"credprops/store"
)

func main() {
	db := flag.String("db", "", "credprops SQLite database file; required")
	values := flag.Int("values", 1000, "number of property values to add, a multiple of 10")
	flag.Parse()

	if *db == "" || *values <= 0 || *values%dataset.Properties != 0 {
		flag.Usage()
		fmt.Fprintln(os.Stderr, "seed: -db is required and -values must be a positive multiple of 10")
		os.Exit(2)
	}

	start := time.Now()
	if err := seed(context.Background(), *db, *values/dataset.Properties); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
	fmt.Printf("seed: added %d property values to %s in %s\n", *values, *db, time.Since(start).Round(time.Millisecond))
}

func seed(ctx context.Context, path string, credentials int) error {
	db, err := sql.Open("sqlite3", store.SQLiteDSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	clientID, definitionIDs, err := loadBenchRows(ctx, tx)
	if err != nil {
		return err
	}
	if err := insertRows(ctx, tx, clientID, definitionIDs, credentials); err != nil {
		return err
	}
	return tx.Commit()
}

// loadBenchRows returns the IDs of client bench and of the definitions of
// prop00 to prop09, in order.
func loadBenchRows(ctx context.Context, tx *sql.Tx) (int64, []int64, error) {
	var clientID int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM clients WHERE ext_id = ?", dataset.ClientExtID).Scan(&clientID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("client %q not found: apply bench/data.yaml with credprops load first", dataset.ClientExtID)
	} else if err != nil {
		return 0, nil, fmt.Errorf("look up client: %w", err)
	}

	definitionIDs := make([]int64, dataset.Properties)
	for i := range definitionIDs {
		name := dataset.PropertyName(i)
		err := tx.QueryRowContext(ctx,
			"SELECT id FROM property_definitions WHERE name = ? AND scope = ? AND client_id IS NULL",
			name, store.ScopeGenericCredential).Scan(&definitionIDs[i])
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil, fmt.Errorf("property %s not found: apply bench/data.yaml with credprops load first", name)
		} else if err != nil {
			return 0, nil, fmt.Errorf("look up property %s: %w", name, err)
		}
	}
	return clientID, definitionIDs, nil
}

func insertRows(ctx context.Context, tx *sql.Tx, clientID int64, definitionIDs []int64, credentials int) error {
	insertUser, err := tx.PrepareContext(ctx,
		"INSERT INTO users (client_id, ext_id, created_at, updated_at) VALUES (?, ?, ?, ?)")
	if err != nil {
		return err
	}
	insertCredential, err := tx.PrepareContext(ctx,
		`INSERT INTO generic_credentials (user_id, ext_id, identification, state, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insertValue, err := tx.PrepareContext(ctx,
		`INSERT INTO property_values (credential_id, definition_id, value, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}

	now := time.Now().UTC()
	var userID int64
	for i := range credentials {
		if i%dataset.CredentialsPerUser == 0 {
			res, err := insertUser.ExecContext(ctx, clientID, dataset.UserExtID(i/dataset.CredentialsPerUser), now, now)
			if err != nil {
				return fmt.Errorf("insert user: %w", err)
			}
			userID, _ = res.LastInsertId()
		}

		extID := dataset.CredentialExtID(i)
		res, err := insertCredential.ExecContext(ctx, userID, extID, extID, store.StateActive, now, now)
		if err != nil {
			return fmt.Errorf("insert credential %s: %w", extID, err)
		}
		credentialID, _ := res.LastInsertId()

		for p, definitionID := range definitionIDs {
			value := fmt.Sprintf("value-%d-%d", i, p)
			if _, err := insertValue.ExecContext(ctx, credentialID, definitionID, value, now, now); err != nil {
				return fmt.Errorf("insert value of credential %s: %w", extID, err)
			}
		}
	}
	return nil
}
