// Starts `specstudio lsp` for YAML files (`*.yaml`, `*.yml`, `compose*.y*ml`)
// and stops it with the extension.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const path = vscode.workspace.getConfiguration("specstudio").get("server.path") || "specstudio";
  const server = { command: path, args: ["lsp"] };
  client = new LanguageClient(
    "specstudio",
    "specstudio",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "yaml" },
        { scheme: "file", language: "dockercompose" },
        { scheme: "file", pattern: "**/compose*.{yaml,yml}" },
        { scheme: "untitled", language: "yaml" },
      ],
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
