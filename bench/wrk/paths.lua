-- GET a random path from a file, one path a line: random customer ids, search terms, deep cursors.
-- Arguments: PATHS_FILE [BEARER_TOKEN]
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local paths
local headers = {}

function init(args)
   paths = read_lines(args[1])
   if args[2] then headers["Authorization"] = "Bearer " .. args[2] end
   seed_random()
end

function request()
   return wrk.format("GET", paths[math.random(#paths)], headers)
end
