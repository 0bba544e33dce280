package graphql

import (
	"io"
	"net/http"
)

// graphiqlPage is a minimal GraphiQL for developers running Ward locally.
// It loads React and GraphiQL from a CDN: a developer's browser has the
// internet even where Ward's own processes may not, and it keeps Ward's
// binary free of a JavaScript bundle. Versions are pinned and checked with
// subresource integrity (hashes of the files in the npm packages, which
// the CDN serves unchanged). The token goes in GraphiQL's headers pane:
// {"Authorization": "Bearer <token>"}.
const graphiqlPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ward GraphiQL</title>
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css"
 integrity="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
 crossorigin="anonymous">
<script src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"
 integrity="sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z"
 crossorigin="anonymous"></script>
<script src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"
 integrity="sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1"
 crossorigin="anonymous"></script>
<script src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"
 integrity="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
 crossorigin="anonymous"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script>
const fetcher = GraphiQL.createFetcher({url: location.origin + "/graphql"});
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultHeaders: '{"Authorization": "Bearer "}',
    shouldPersistHeaders: false,
  }));
</script>
</body>
</html>
`

// serveGraphiQL serves the page. It needs no token: it is static, and
// every query it sends is authenticated like any other.
func serveGraphiQL(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = io.WriteString(w, graphiqlPage)
}
