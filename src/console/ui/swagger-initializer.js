// Starts Swagger UI over the document named by ?url= (this origin's
// /api/v1/api-docs by default). A file of its own: the page's
// Content-Security-Policy allows no inline script.
window.ui = SwaggerUIBundle({
  url: new URLSearchParams(location.search).get("url") || "/api/v1/api-docs",
  dom_id: "#swagger-ui",
});
