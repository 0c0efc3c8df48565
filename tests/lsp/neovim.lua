-- Neovim, headless, as a real editor client of `specstudio lsp`: attach the
-- server to the open buffer (the seed), wait for the diagnostics it pushes,
-- print them, ask for a hover, and exit non-zero unless all of that worked.
-- Run by tests/lsp/neovim.sh; works on Neovim 0.7 (start_client) and 0.8+ (vim.lsp.start).

local bin = os.getenv("SPECSTUDIO_BIN")
local buf = vim.api.nvim_get_current_buf()
local function out(line) io.stdout:write(line .. "\n") end
local function fail(why) out("FAIL: " .. why); vim.cmd("cquit 1") end

local config = { name = "specstudio", cmd = { bin, "lsp" }, root_dir = vim.fn.getcwd() }
local client_id
if vim.lsp.start then
  client_id = vim.lsp.start(config)
else
  client_id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(buf, client_id)
end
if not client_id then return fail("the server did not start") end

local got = vim.wait(15000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
if not got then return fail("no diagnostics within 15 s") end

local names = { "error", "warning", "info", "hint" }
local errors = 0
for _, d in ipairs(vim.diagnostic.get(buf)) do
  if d.severity == vim.diagnostic.severity.ERROR then errors = errors + 1 end
  out(string.format("%s:%d:%d: %s [%s] %s", vim.api.nvim_buf_get_name(buf):match("[^/]*$"),
    d.lnum + 1, d.col + 1, names[d.severity], tostring(d.code), (d.message:gsub("\n.*", ""))))
end

-- Hover on `x-omnistrate-compute` (first occurrence).
local row = vim.fn.search("x-omnistrate-compute", "w")
local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = row - 1, character = 6 } }
local replies = vim.lsp.buf_request_sync(buf, "textDocument/hover", params, 10000) or {}
local hover
for _, reply in pairs(replies) do
  if reply.result and reply.result.contents then hover = reply.result.contents.value end
end
if not hover or not hover:find("x%-omnistrate%-compute") then return fail("no hover on x-omnistrate-compute") end
out("hover: " .. (hover:gsub("\n.*", "")))

local client = vim.lsp.get_client_by_id(client_id)
out(string.format("%d diagnostics (%d errors) from %s", #vim.diagnostic.get(buf), errors, client.name))
if errors > 0 then return fail("the seed has errors") end
client.stop()
vim.wait(2000, function() return client.is_stopped() end, 20)
vim.cmd("qall!")
