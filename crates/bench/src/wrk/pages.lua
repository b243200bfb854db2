-- GET the paths given after `--` (after the bearer token) in turn, as
-- people page through the workspace.

function init(args)
  headers = { ["Authorization"] = "Bearer " .. args[1] }
  paths = {}
  for i = 2, #args do paths[#paths + 1] = args[i] end
  turn = 0
end

function request()
  turn = turn + 1
  return wrk.format("GET", paths[(turn - 1) % #paths + 1], headers)
end
