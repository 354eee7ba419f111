-- Scenario segments.get: GET /api/user/v1/info/segment/?juid=..., no body;
-- the upstream answers [35,36] as application/json.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.request("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b", nil, nil)
