package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"credprops/access"
)

// ErrUnknownUser is returned by Caller when no user has the extId.
var ErrUnknownUser = errors.New("user not found")

// Caller returns the user with the given extId, its client and its role
// assignments with their rights and datarooms, or ErrUnknownUser.
func (s *Store) Caller(ctx context.Context, userExtID string) (*access.Caller, error) {
	db := s.read.WithContext(ctx)

	var u struct {
		ID          int64
		ClientExtID string
	}
	res := db.Raw(`
		SELECT u.id, c.ext_id AS client_ext_id
		FROM users u JOIN clients c ON c.id = u.client_id
		WHERE u.ext_id = ?`, userExtID).Scan(&u)
	if res.Error != nil {
		return nil, fmt.Errorf("look up caller: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrUnknownUser
	}

	var assignments []roleAssignment
	err := db.Preload("Role").Preload("Clients").
		Where("user_id = ?", u.ID).Find(&assignments).Error
	if err != nil {
		return nil, fmt.Errorf("load role assignments: %w", err)
	}

	caller := &access.Caller{UserExtID: userExtID, ClientExtID: u.ClientExtID}
	for _, a := range assignments {
		assignment := access.Assignment{Role: a.Role.Name}
		for _, r := range a.Role.Rights {
			assignment.Rights = append(assignment.Rights, access.Right(r))
		}
		for _, c := range a.Clients {
			assignment.Clients = append(assignment.Clients, c.ExtID)
		}
		caller.Assignments = append(caller.Assignments, assignment)
	}
	return caller, nil
}

// Secret returns the setting with the given name, first storing a random
// 256-bit value, base64-encoded, when none is stored. Concurrent callers
// and server instances get the same value.
func (s *Store) Secret(ctx context.Context, name string) (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}

	db := s.write.WithContext(ctx)
	err := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&setting{Name: name, Value: base64.RawURLEncoding.EncodeToString(buf)}).Error
	if err != nil {
		return "", fmt.Errorf("store secret %s: %w", name, err)
	}

	var stored setting
	if err := db.Where("name = ?", name).Take(&stored).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", fmt.Errorf("secret %s vanished after it was stored", name)
		}
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	return stored.Value, nil
}
