// Command graphql is Ward's GraphQL facade as a deployable: on AWS Lambda,
// on Google Cloud Functions or Cloud Run, or as a plain HTTP server. By
// default it hosts every domain function in process; WARD_INVOKE_<FUNCTION>
// sends a function's operations to that function's own deployment instead.
package main

import (
	"github.com/wardhq/ward/shared/platform"
	"github.com/wardhq/ward/shared/platform/facade"
)

func main() { platform.MainFront(platform.Facade, facade.Build) }
