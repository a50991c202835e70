package access

import (
	"fmt"
	"slices"
)

// Assignment is one role of a caller inside a dataroom.
type Assignment struct {
	Role   string
	Rights []Right
	// Clients is the dataroom: the extIds of the clients the role applies
	// to. An empty list means every client.
	Clients []string
}

func (a Assignment) covers(clientExtID string) bool {
	return len(a.Clients) == 0 || slices.Contains(a.Clients, clientExtID)
}

// Caller is the authenticated user making a request.
type Caller struct {
	UserExtID   string
	ClientExtID string
	Assignments []Assignment
}

// Target is the owner of the credential a request works on.
type Target struct {
	ClientExtID string
	UserExtID   string
}

// Grant is the permission a caller gets on a target once authorized.
type Grant struct {
	// Override is true when the caller bypasses per-property access modes
	// through AccessControl.PropertyAttributeAccessOverride.
	Override bool
}

// Denial is the reason a caller may not act on a target.
type Denial struct {
	// Right is the first right, in the order required, that the caller
	// lacks altogether or holds only outside the target's client.
	Right Right
	// Dataroom is true when the caller holds every right, but Right only
	// through assignments that do not cover the target's client.
	Dataroom bool
}

func (d *Denial) Error() string {
	if d.Dataroom {
		return fmt.Sprintf("right %s is outside the dataroom", d.Right)
	}
	return fmt.Sprintf("right %s is missing", d.Right)
}

// Authorize checks that the caller holds every right in required through an
// assignment whose dataroom covers the target's client. A caller with the
// SelfAdmin role passes for its own user without those rights, and then the
// per-property access modes always apply. Authorize returns a *Denial
// otherwise; the dataroom check does not look at whether the client exists.
func (c *Caller) Authorize(required []Right, t Target) (Grant, error) {
	missing, outside := c.firstGap(required, t.ClientExtID)
	if missing == "" && outside == "" {
		return Grant{Override: c.holdsFor(PropertyAttributeAccessOverride, t.ClientExtID)}, nil
	}
	if c.isSelf(t) {
		return Grant{}, nil
	}
	if missing != "" {
		return Grant{}, &Denial{Right: missing}
	}
	return Grant{}, &Denial{Right: outside, Dataroom: true}
}

// firstGap returns the first right of required that the caller holds
// nowhere, and the first it holds only outside clientExtID's dataroom.
func (c *Caller) firstGap(required []Right, clientExtID string) (missing, outside Right) {
	for _, r := range required {
		held, covered := false, false
		for _, a := range c.Assignments {
			if slices.Contains(a.Rights, r) {
				held = true
				covered = covered || a.covers(clientExtID)
			}
		}
		if !held && missing == "" {
			missing = r
		}
		if held && !covered && outside == "" {
			outside = r
		}
	}
	return missing, outside
}

func (c *Caller) holdsFor(r Right, clientExtID string) bool {
	for _, a := range c.Assignments {
		if a.covers(clientExtID) && slices.Contains(a.Rights, r) {
			return true
		}
	}
	return false
}

func (c *Caller) isSelf(t Target) bool {
	if c.UserExtID != t.UserExtID || c.ClientExtID != t.ClientExtID {
		return false
	}
	for _, a := range c.Assignments {
		if a.Role == RoleSelfAdmin {
			return true
		}
	}
	return false
}
