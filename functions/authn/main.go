// Command authn is Ward's sign-in function as a deployable: on AWS Lambda,
// on Google Cloud Functions or Cloud Run, or as a plain HTTP server. It
// hosts the functions it calls (tenants, users, mfa, sessions) in process
// unless they are routed elsewhere.
package main

import "github.com/wardhq/ward/shared/platform"

func main() { platform.Main(platform.Authn) }
