-- PATCH /api/v1/customers/{id} of a random id with new notes (a JSON merge patch that changes the row).
-- Arguments: IDS_FILE BEARER_TOKEN
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local ids
local headers = { ["Content-Type"] = "application/merge-patch+json" }
local counter = 0

function init(args)
   ids = read_lines(args[1])
   headers["Authorization"] = "Bearer " .. args[2]
   seed_random()
end

function request()
   counter = counter + 1
   local body = string.format('{"notes": "Called back, ticket %d-%d-%d."}', thread_id, counter, math.random(999999))
   return wrk.format("PATCH", "/api/v1/customers/" .. ids[math.random(#ids)], headers, body)
end
