// Starts Swagger UI on /docs (safecity/api/docs.py). A file of its own rather than the inline
// script of FastAPI's page, so that the page keeps the Content-Security-Policy
// (script-src 'self'); Swagger UI itself is served by this server too.
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  layout: "BaseLayout",
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  // Swagger UI would otherwise show a badge fetched from swagger.io, naming our schema's URL.
  validatorUrl: null,
});
