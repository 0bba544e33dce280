package config

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestDefaultsNeedNothing(t *testing.T) {
	c, err := FromEnv(Defaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.Store != "bolt" || c.Cache != "memory" || c.DataDir != ".ward" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestFromEnvReadsSettings(t *testing.T) {
	c, err := FromEnv(Defaults(), []string{
		"WARD_STORE=scylla",
		"WARD_SCYLLA_HOSTS=10.0.0.1:9042, 10.0.0.2",
		"WARD_CACHE=redis",
		"WARD_REDIS_ADDR=cache:6380",
		"WARD_REDIS_DB=3",
		"WARD_SHUTDOWN_TIMEOUT=5s",
		"WARD_INVOKE_USERS=lambda:ward-users",
		"WARD_LOG_LEVEL=debug",
		"WARD_TEST_CASSANDRA_HOSTS=ignored",
		"PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Scylla.Hosts, ","), "10.0.0.1:9042,10.0.0.2"; got != want {
		t.Errorf("hosts = %q, want %q", got, want)
	}
	if c.Redis.Addr != "cache:6380" || c.Redis.DB != 3 || c.ShutdownTimeout != 5*time.Second {
		t.Errorf("config = %+v", c)
	}
	if got, want := c.Invoke["users"], "lambda:ward-users"; got != want {
		t.Errorf("invoke users = %q, want %q", got, want)
	}
}

func TestFromEnvRefusesBadSettings(t *testing.T) {
	cases := []struct {
		name, env, want string
	}{
		{"an unknown variable", "WARD_STOER=bolt", "WARD_STOER: unknown setting"},
		{"an unknown store", "WARD_STORE=postgres", "WARD_STORE"},
		{"scylla without hosts", "WARD_STORE=scylla", "WARD_SCYLLA_HOSTS"},
		{"an unknown cache", "WARD_CACHE=memcached", "WARD_CACHE"},
		{"a bad address", "WARD_ADDR=8080", "WARD_ADDR"},
		{"a short bootstrap token", "WARD_BOOTSTRAP_TOKEN=short", "WARD_BOOTSTRAP_TOKEN"},
		{"a short invoke key", "WARD_INVOKE_KEY=abcd", "WARD_INVOKE_KEY"},
		{"a short MFA key", "WARD_MFA_KEY=abcd", "WARD_MFA_KEY"},
		{"an MFA key that is not hex", "WARD_MFA_KEY=" + strings.Repeat("zz", 32), "WARD_MFA_KEY"},
		{"a long OAuth key", "WARD_OAUTH_KEY=" + strings.Repeat("ab", 33), "WARD_OAUTH_KEY"},
		{"an OAuth key that is not hex", "WARD_OAUTH_KEY=" + strings.Repeat("zz", 32), "WARD_OAUTH_KEY"},
		{"a KMS key ID with spaces", "WARD_OAUTH_KMS_KEY_ID=alias/ward keys", "WARD_OAUTH_KMS_KEY_ID"},
		{"an HTTP transport without a key", "WARD_INVOKE_USERS=http://users.internal", "WARD_INVOKE_USERS"},
		{"a bad transport", "WARD_INVOKE_USERS=ftp://x", "WARD_INVOKE_USERS"},
		{"a bad duration", "WARD_SHUTDOWN_TIMEOUT=-1s", "WARD_SHUTDOWN_TIMEOUT"},
		{"a bad log level", "WARD_LOG_LEVEL=loud", "WARD_LOG_LEVEL"},
		{"a bad redis db", "WARD_REDIS_DB=99", "WARD_REDIS_DB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(Defaults(), []string{tc.env})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestFromEnvDoesNotShareTheBaseInvokeMap(t *testing.T) {
	base := Defaults()
	if _, err := FromEnv(base, []string{"WARD_INVOKE_USERS=lambda:x"}); err != nil {
		t.Fatal(err)
	}
	if len(base.Invoke) != 0 {
		t.Errorf("base.Invoke was changed: %v", base.Invoke)
	}
}

func TestFromEnvReadsMessaging(t *testing.T) {
	c, err := FromEnv(Defaults(), []string{
		"WARD_PUBLIC_URL=https://id.example.com/",
		"WARD_EMAIL=smtp", "WARD_EMAIL_FROM=Ward <no-reply@example.com>",
		"WARD_SMTP_HOST=mail.example.com", "WARD_SMTP_PORT=465", "WARD_SMTP_IMPLICIT_TLS=true",
		"WARD_SMS=sns", "WARD_SNS_SENDER_ID=Ward",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Messaging
	if c.PublicURL != "https://id.example.com" || m.Email != "smtp" || m.SMTP.Port != 465 ||
		!m.SMTP.ImplicitTLS || m.SMS != "sns" || m.SNSSenderID != "Ward" {
		t.Errorf("config = %+v", c)
	}
	d, err := FromEnv(Defaults(), []string{"WARD_ADDR=127.0.0.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	if d.PublicURL != "http://127.0.0.1:9000" || d.Messaging.Email != "none" || d.Messaging.SMS != "none" {
		t.Errorf("defaults = %+v", d)
	}
}

func TestFromEnvRefusesBadMessaging(t *testing.T) {
	for _, env := range [][]string{
		{"WARD_EMAIL=carrier-pigeon"},
		{"WARD_EMAIL=smtp", "WARD_EMAIL_FROM=a@example.com"},
		{"WARD_EMAIL=ses"},
		{"WARD_EMAIL_FROM=not an address"},
		{"WARD_SMTP_PORT=70000"},
		{"WARD_SMS=fax"},
		{"WARD_PUBLIC_URL=ftp://example.com"},
		{"WARD_PUBLIC_URL=https://example.com/?next=1"},
	} {
		if _, err := FromEnv(Defaults(), env); err == nil {
			t.Errorf("%v was accepted", env)
		}
	}
}

func TestFromEnvReadsTheMFAKey(t *testing.T) {
	key := strings.Repeat("0123456789abcdef", 4)
	c, err := FromEnv(Defaults(), []string{"WARD_MFA_KEY=" + key})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(c.MFAKey); got != key {
		t.Errorf("MFA key = %s, want %s", got, key)
	}
	if c, _ := FromEnv(Defaults(), nil); c.MFAKey != nil {
		t.Errorf("MFA key without the variable = %x, want none", c.MFAKey)
	}
}

func TestFromEnvReadsTheOAuthKeyApartFromTheMFAKey(t *testing.T) {
	key := strings.Repeat("fedcba9876543210", 4)
	c, err := FromEnv(Defaults(), []string{"WARD_OAUTH_KEY=" + key})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(c.OAuthKey); got != key {
		t.Errorf("OAuth key = %s, want %s", got, key)
	}
	if c.MFAKey != nil {
		t.Errorf("MFA key = %x, want none: the OAuth key is another key", c.MFAKey)
	}
}

func TestFromEnvReadsTheOAuthKMSKeyID(t *testing.T) {
	c, err := FromEnv(Defaults(), []string{"WARD_OAUTH_KMS_KEY_ID=alias/ward-oauth"})
	if err != nil {
		t.Fatal(err)
	}
	if c.OAuthKMSKeyID != "alias/ward-oauth" || c.OAuthKey != nil {
		t.Errorf("KMS key ID %q, master key %x; want alias/ward-oauth and none",
			c.OAuthKMSKeyID, c.OAuthKey)
	}
}
