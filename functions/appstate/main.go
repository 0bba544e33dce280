// Command appstate is Ward's application state function as a deployable:
// on AWS Lambda, on Google Cloud Functions or Cloud Run, or as a plain
// HTTP server (which serves the /appstate/ API). It hosts the sessions
// function in process, to validate session tokens.
package main

import "github.com/wardhq/ward/shared/platform"

func main() { platform.Main(platform.AppState) }
