-- POST /api/v1/auth/token with the password grant (form-encoded, RFC 6749 section 4.3).
-- Arguments: FORM_BODY (already url-encoded: grant_type=password&username=...&password=...)
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local body

function init(args)
   body = args[1]
end

function request()
   return wrk.format("POST", "/api/v1/auth/token", headers, body)
end
