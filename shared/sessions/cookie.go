package sessions

// CookieBase is the name of the browser cookie that holds a session token
// for the hosted pages and the OAuth authorization endpoint, over plain
// http (development).
const CookieBase = "ward_session"

// CookieName is the session cookie's name as browsers see it. Served over
// https, the name carries the __Host- prefix, which a browser accepts
// only from a secure origin, for Path=/ and without a Domain, so that a
// neighbouring subdomain can neither set nor overwrite it (RFC 6265bis
// section 4.1.3.2). The hosted pages set it; whoever reads it must agree
// on the name, hence this one place.
func CookieName(https bool) string {
	if https {
		return "__Host-" + CookieBase
	}
	return CookieBase
}
