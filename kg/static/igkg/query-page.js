// igkg: the query page. Its settings (endpoint, named-query examples) come from the JSON
// block #igkg-config, so the page has no inline script (CSP script-src 'self').
(function () {
  var config = JSON.parse(document.getElementById("igkg-config").textContent);
  var endpoint = config.endpoint;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null,
    yasqe: { createShareableLink: null }
  });
  config.examples.forEach(function (example) {
    yasgui.addTab(false, Object.assign({}, Yasgui.Tab.getDefaults(), {
      name: example.name,
      yasqe: { value: example.query },
      requestConfig: { endpoint: endpoint, method: "POST" }
    }));
  });
  window.igkgYasgui = yasgui;
})();
