-- chunks_walk.lua: the wrk client of the chunk benchmark of rackd.
-- Every connection fetches the chunk URLs listed in the file named by
-- CHUNKS_URLS (one path per line), in order, wrapping round at the end;
-- each wrk thread starts at a different place in the list. done() prints
-- one line that tests/bench/chunks.sh reads:
--   RESULT bytes=N us=N requests=N errors=N
local paths = {}
local list = os.getenv("CHUNKS_URLS")
if list == nil then
	error("CHUNKS_URLS is not set")
end
for line in io.lines(list) do
	if line ~= "" then
		paths[#paths + 1] = line
	end
end
if #paths == 0 then
	error(list .. ": no URLs")
end

local nthreads = 0
local next_i = 0

function setup(thread)
	thread:set("thread_no", nthreads)
	nthreads = nthreads + 1
end

function init(args)
	local n = tonumber(thread_no) or 0
	next_i = (n * 131) % #paths
end

function request()
	next_i = next_i % #paths + 1
	return wrk.format("GET", paths[next_i])
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT bytes=%d us=%d requests=%d errors=%d\n",
	    summary.bytes, summary.duration, summary.requests,
	    e.connect + e.read + e.write + e.status + e.timeout))
end
