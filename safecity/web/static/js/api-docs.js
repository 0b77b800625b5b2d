// @ts-check
// Starts Swagger UI on /docs (safecity/api/docs.py). A file of its own rather than the inline
// script of FastAPI's page, so that the page keeps the Content-Security-Policy
// (script-src 'self'); Swagger UI itself is served by this server too.

/**
 * What this page calls of Swagger UI's bundle (swagger-ui-bundle.js, loaded before this file).
 * @typedef {object} SwaggerUIBundle
 * @property {{ apis: unknown }} presets
 * @property {unknown} SwaggerUIStandalonePreset
 * @typedef {SwaggerUIBundle & ((options: Record<string, unknown>) => unknown)} SwaggerUI
 */

// The bundle sets a global of its own, which the DOM's types cannot know.
const swagger = /** @type {{ SwaggerUIBundle: SwaggerUI }} */ (/** @type {unknown} */ (window)).SwaggerUIBundle;
const root = document.getElementById("swagger-ui");
if (!root) throw new Error("the page has no #swagger-ui");
swagger({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  layout: "BaseLayout",
  presets: [swagger.presets.apis, swagger.SwaggerUIStandalonePreset],
  // Swagger UI would otherwise show a badge fetched from swagger.io, naming our schema's URL.
  validatorUrl: null,
});
