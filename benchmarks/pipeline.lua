-- HTTP/1.1 pipelining, depth 16: each write carries 16 GET requests.
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format("GET", "/plaintext") end
  req = table.concat(r)
end
request = function() return req end
