// Command clients is Ward's OAuth client registry function as a
// deployable: on AWS Lambda, on Google Cloud Functions or Cloud Run, or
// as a plain HTTP server.
package main

import "github.com/wardhq/ward/shared/platform"

func main() { platform.Main(platform.Clients) }
