// Package graphql is Ward's GraphQL facade: the one public API in front of
// the functions that own tenants, users and API tokens.
//
// The facade holds no state of its own. Each request is authenticated by a
// bearer token, which the admin function's apitokens.verify operation (or,
// for a session token, "wss_...", the sessions function's sessions.validate)
// turns into a function.Caller; every field is then resolved by invoking an
// operation of the owning function through an invoke.Invoker, on behalf of
// that caller. Authorization happens in the operations, never here: the
// facade carries the verified caller, the request ID and the typed input,
// and nothing a request says about itself (headers, variables, extensions)
// changes who the caller is. The only memory it keeps is a few seconds of
// verified tokens and a bounded cache of parsed, validated documents; both
// are per process and may be lost at any time.
//
// A request goes through these steps, and nothing runs once one fails:
//
//  1. request ID: X-Request-Id when it is 1 to 64 characters of
//     [A-Za-z0-9._-], else a fresh one; echoed in the response and passed
//     to every operation;
//  2. authentication: Authorization: Bearer <token> (HTTP 401, code
//     UNAUTHENTICATED, with a WWW-Authenticate challenge);
//  3. body: application/json of at most Options.MaxBodyBytes (HTTP 413,
//     PAYLOAD_TOO_LARGE), holding query, variables, operationName and
//     extensions (ignored) and nothing else; a query of at most
//     Options.MaxQueryBytes;
//  4. parse (GRAPHQL_PARSE_FAILED), operation selection, and a check of
//     the variables (INVALID_ARGUMENT, field "variables.<name>..."): each
//     must be declared by the operation (the GraphQL spec ignores the
//     others, Ward refuses them) and fit its type strictly, see
//     variables.go;
//  5. limits, on the parsed document before validation, so that an
//     expensive document never reaches the validator: depth
//     (QUERY_TOO_DEEP) and complexity (QUERY_TOO_COMPLEX), see limits.go;
//  6. validation against the schema (GRAPHQL_VALIDATION_FAILED);
//  7. execution.
//
// Every error in a response carries extensions.code: the errs.Code of the
// operation that failed (INVALID_ARGUMENT, NOT_FOUND, CONFLICT,
// UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE, ...), or one of the
// facade's own codes above; extensions.field names the input field at
// fault when the operation named one. Faults of Ward itself are answered
// "internal error" with code INTERNAL and logged with the request ID;
// their cause never reaches the client.
//
// HTTP status follows the GraphQL-over-HTTP draft: with the default
// application/json response, every well-formed request is answered 200,
// including parse, validation and limit failures; a client whose Accept
// lists application/graphql-response+json gets that type, and 400 for
// failures before execution. Requests that are not well-formed (bad JSON,
// no query) are 400, a content type other than JSON 415, an oversized
// body or query 413, a missing or bad token 401.
//
// A missing tenant or user (tenant(id), user(tenantId, id)) is null in data
// together with an error whose code is NOT_FOUND, the way Hasura and the
// Keycloak admin API behave for clients of those. Response fields come in
// the order the request selected them; DateTime values are RFC 3339 in UTC.
//
// Known shortcomings, each also noted where it lives:
//   - graphql-go v0.8.1 cannot parse the null literal; a client passes null
//     through a variable instead.
//   - Only POST executes; GET /graphql serves the GraphiQL page when it is
//     enabled and nothing else.
//   - A deleted token keeps working on an instance that verified it within
//     Options.TokenCacheTTL (5 s by default).
package graphql
