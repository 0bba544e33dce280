package attributes

import (
	"slices"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// MaxPreferenceLength bounds a preference's value, in characters.
const MaxPreferenceLength = 256

// ApplyPreferences merges patch into current (a nil value removes the
// entry) and checks the result: keys named like attributes, values short
// text, at most store.MaxPreferences entries. Preferences are the user's
// own and follow no schema. current is not modified; the result is nil
// when empty.
func ApplyPreferences(current map[string]string, patch map[string]*string) (
	map[string]string, error) {
	out := make(map[string]string, len(current)+len(patch))
	for k, v := range current {
		out[k] = v
	}
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(k) > maxNameBytes || !nameRE.MatchString(k) {
			return nil, errs.Invalid("preferences",
				"keys must be a letter then letters, digits or underscores, at most %d bytes",
				maxNameBytes)
		}
		v := patch[k]
		if v == nil {
			delete(out, k)
			continue
		}
		if err := validate.Text("preferences."+k, *v, MaxPreferenceLength); err != nil {
			return nil, err
		}
		out[k] = *v
	}
	if len(out) > store.MaxPreferences {
		return nil, errs.Invalid("preferences", "at most %d entries", store.MaxPreferences)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
