// Command mfa is Ward's second factor function as a deployable: on AWS
// Lambda, on Google Cloud Functions or Cloud Run, or as a plain HTTP
// server. Deployments with ScyllaDB set WARD_MFA_KEY (see package mfa).
package main

import "github.com/wardhq/ward/shared/platform"

func main() { platform.Main(platform.MFA) }
