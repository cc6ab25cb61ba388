-- wrk script for the pipelined scenario: every write carries DEPTH requests
-- for the URL's path (default 16; override with `wrk ... -- DEPTH`). wrk counts
-- responses, so its requests and req/s are per request, not per batch.
-- Also loads report.lua (beside this file) for the summary line.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local batch

function init(args)
   local depth = tonumber(args[1]) or 16
   local one = wrk.format(nil, nil)   -- GET wrk.path with wrk.headers
   local parts = {}
   for i = 1, depth do
      parts[i] = one
   end
   batch = table.concat(parts)
end

function request()
   return batch
end
