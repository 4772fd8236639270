// Starts Swagger UI on /docs. A file rather than an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts altogether.
"use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayOperationId: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
  // The Authorize dialog signs in with the password grant; the service needs no client id or secret.
  window.ui.initOAuth({ usePkceWithAuthorizationCodeGrant: false });
});
