// Package access holds the rights and built-in roles of nevisIDM callers and
// decides what a caller may do on a target client.
package access

// Right is a nevisIDM function right such as AccessControl.CredentialView.
type Right string

// The rights that the generic-credential properties API checks.
const (
	CredentialView                  Right = "AccessControl.CredentialView"
	CredentialModify                Right = "AccessControl.CredentialModify"
	CredentialCreate                Right = "AccessControl.CredentialCreate"
	CredentialDelete                Right = "AccessControl.CredentialDelete"
	PropertyView                    Right = "AccessControl.PropertyView"
	PropertyValueView               Right = "AccessControl.PropertyValueView"
	PropertyAllowedValueView        Right = "AccessControl.PropertyAllowedValueView"
	PropertyValueCreate             Right = "AccessControl.PropertyValueCreate"
	PropertyValueDelete             Right = "AccessControl.PropertyValueDelete"
	PropertyValueModify             Right = "AccessControl.PropertyValueModify"
	PropertyAttributeAccessOverride Right = "AccessControl.PropertyAttributeAccessOverride"
)

// AllRights lists every right credprops defines, in the order used for checks.
var AllRights = []Right{
	CredentialView, CredentialModify, CredentialCreate, CredentialDelete,
	PropertyView, PropertyValueView, PropertyAllowedValueView,
	PropertyValueCreate, PropertyValueDelete, PropertyValueModify,
	PropertyAttributeAccessOverride,
}

// ViewRights are the rights that reading a credential's properties needs,
// in the order of the nevisIDM reference.
var ViewRights = []Right{
	CredentialView, PropertyView, PropertyValueView, PropertyAllowedValueView,
}

// UpdateRights are the rights that updating a credential's properties needs,
// in the order of the nevisIDM reference page for that endpoint.
var UpdateRights = []Right{
	CredentialView, CredentialModify, PropertyView, PropertyValueView,
	PropertyAllowedValueView, PropertyValueCreate, PropertyValueDelete,
	PropertyValueModify,
}

// Names of the built-in roles.
const (
	RoleRoot             = "Root"
	RoleCredentialAdmin  = "CredentialAdmin"
	RoleCredentialViewer = "CredentialViewer"
	RoleSelfAdmin        = "SelfAdmin"
)

// BuiltinRoles maps each built-in role to its rights. SelfAdmin carries no
// function right: it lets a caller work on its own user's credentials.
var BuiltinRoles = map[string][]Right{
	RoleRoot:             AllRights,
	RoleCredentialAdmin:  append(append([]Right{}, UpdateRights...), CredentialCreate, CredentialDelete),
	RoleCredentialViewer: ViewRights,
	RoleSelfAdmin:        nil,
}

// IsKnown reports whether r is one of AllRights.
func IsKnown(r Right) bool {
	for _, known := range AllRights {
		if r == known {
			return true
		}
	}
	return false
}
