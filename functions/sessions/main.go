// Command sessions is Ward's sessions function as a deployable: on AWS
// Lambda, on Google Cloud Functions or Cloud Run, or as a plain HTTP
// server (which also serves POST /sessions/validate).
package main

import "github.com/wardhq/ward/shared/platform"

func main() { platform.Main(platform.Sessions) }
