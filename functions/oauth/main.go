// Command oauth is Ward's OAuth 2.0 / OpenID Connect function as a
// deployable: on AWS Lambda, on Google Cloud Functions or Cloud Run, or
// as a plain HTTP server.
package main

import "github.com/wardhq/ward/shared/platform"

func main() { platform.Main(platform.OAuth) }
