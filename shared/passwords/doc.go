// Package passwords stores and checks the passwords people choose: the user
// store hashes them with Hash, login verifies them with Verify, and every
// place that sets a new password (enrolment, change, reset) runs Check
// first.
//
// # Storage
//
// Passwords are hashed with Argon2id (RFC 9106) and kept as PHC strings,
// for example
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in base64 without padding. DefaultParams documents the
// cost chosen and why. Verify refuses stored strings whose parameters fall
// outside fixed bounds, so a tampered or corrupt record cannot make one
// login burn gigabytes of memory or minutes of CPU, and reports when a
// correct password was stored with other parameters than today's, so the
// caller can store a fresh hash while it still holds the plain text.
//
// # Policy
//
// Check applies NIST SP 800-63B revision 4, section 3.1.1.2 (password
// verifiers), to a new password: a minimum length that depends on whether
// the account has a second factor, a generous maximum, every printing
// character allowed, no composition rules, and a refusal of passwords that
// are common, breached, repetitive or built from the account's own names.
// There is no expiry: the standard forbids periodic changes, and a change is
// forced only on evidence of compromise, which is the caller's decision.
//
// # Normalisation
//
// Hash, Verify and Check all apply Unicode NFKC first (SP 800-63B asks for
// NFKC or NFKD before hashing), so a password typed with a composed "é" on
// one device and a decomposed "e"+U+0301 on another is the same password,
// and length is counted in code points of that normal form.
package passwords
