package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"credprops/access"
)

// ErrUnknownUser is returned by Caller when no user has the extId.
var ErrUnknownUser = errors.New("user not found")

// Caller returns the user with the given extId, its client and its role
// assignments with their rights and datarooms, or ErrUnknownUser. It runs
// one query, because every authenticated request calls it.
func (s *Store) Caller(ctx context.Context, userExtID string) (*access.Caller, error) {
	var rows []struct {
		ClientExtID   string
		AssignmentID  *int64
		Role          *string
		Rights        *string
		DataroomExtID *string
	}
	err := s.read.WithContext(ctx).Raw(`
		SELECT uc.ext_id AS client_ext_id, ra.id AS assignment_id, r.name AS role,
		       r.rights AS rights, dc.ext_id AS dataroom_ext_id
		FROM users u
		JOIN clients uc ON uc.id = u.client_id
		LEFT JOIN role_assignments ra ON ra.user_id = u.id
		LEFT JOIN roles r ON r.id = ra.role_id
		LEFT JOIN role_assignment_clients rac ON rac.role_assignment_id = ra.id
		LEFT JOIN clients dc ON dc.id = rac.client_id
		WHERE u.ext_id = ?
		ORDER BY ra.id, dc.ext_id`, userExtID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("look up caller: %w", err)
	}
	if len(rows) == 0 {
		return nil, ErrUnknownUser
	}

	caller := &access.Caller{UserExtID: userExtID, ClientExtID: rows[0].ClientExtID}
	var current *access.Assignment
	var currentID int64
	for _, row := range rows {
		if row.AssignmentID == nil {
			continue
		}
		if current == nil || *row.AssignmentID != currentID {
			var rights []access.Right
			if err := json.Unmarshal([]byte(*row.Rights), &rights); err != nil {
				return nil, fmt.Errorf("decode rights of role %s: %w", *row.Role, err)
			}
			caller.Assignments = append(caller.Assignments, access.Assignment{Role: *row.Role, Rights: rights})
			current, currentID = &caller.Assignments[len(caller.Assignments)-1], *row.AssignmentID
		}
		if row.DataroomExtID != nil {
			current.Clients = append(current.Clients, *row.DataroomExtID)
		}
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
