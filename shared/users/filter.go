package users

import (
	"regexp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// A filtered listing (ListInput.Filter) goes to store.Users.Search. It
// keeps the scope of users.list: an organization administrator lists one
// organization they reach, and the filter's orgId, when set, must be that
// organization (or, without ListInput.OrgID, becomes it), so a filter
// never widens what the caller may list.

// filterSet reports whether f narrows anything.
func filterSet(f *store.UserFilter) bool {
	return f != nil && *f != store.UserFilter{}
}

// validFilter checks a filter and folds its orgId into in.OrgID, where the
// scope checks of list see it.
func (in *ListInput) validFilter() error {
	f := in.Filter
	if !filterSet(f) {
		return nil
	}
	if f.Status != "" {
		if err := validStatus("filter.status", f.Status); err != nil {
			return err
		}
	}
	if f.OrgID != "" {
		if err := validate.ID("filter.orgId", f.OrgID); err != nil {
			return err
		}
		if in.OrgID != "" && in.OrgID != f.OrgID {
			return errs.Invalid("filter.orgId", "differs from orgId")
		}
		in.OrgID = f.OrgID
	}
	if f.GroupID != "" {
		if err := validate.ID("filter.groupId", f.GroupID); err != nil {
			return err
		}
	}
	if f.Value != "" && f.Attribute == "" {
		return errs.Invalid("filter.value", "needs filter.attribute")
	}
	if f.Attribute != "" {
		if len(f.Attribute) > 64 || !attrNameRE.MatchString(f.Attribute) {
			return errs.Invalid("filter.attribute", "must be an attribute name")
		}
		if err := validate.Text("filter.value", f.Value, 4096); err != nil {
			return err
		}
	}
	return nil
}

// attrNameRE is the shape of an attribute name in a tenant's schema.
var attrNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
