-- POST /api/v1/customers with a new, unique id on every request.
-- Arguments: BEARER_TOKEN TAG (TAG makes the ids unique across runs: TAG-THREAD-COUNTER)
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local headers = { ["Content-Type"] = "application/json" }
local tag
local counter = 0
local names = { "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas" }
local surnames = { "Berger", "Fischer", "Hoffmann", "Keller", "Lang", "Meyer", "Richter", "Schulz" }

function init(args)
   headers["Authorization"] = "Bearer " .. args[1]
   tag = args[2]
   seed_random()
end

function request()
   counter = counter + 1
   local name = names[math.random(#names)]
   local surname = surnames[math.random(#surnames)]
   local id = string.format("%s-%d-%d", tag, thread_id, counter)
   local body = string.format(
      '{"id": "%s", "name": "%s", "surname": "%s", "email": "%s.%s@example.com", "phone": "+1 555 %07d"}',
      id, name, surname, string.lower(name), id, math.random(9999999))
   return wrk.format("POST", "/api/v1/customers", headers, body)
end
