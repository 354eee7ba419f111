-- Scenario action.save: POST /api/user/v1/action/ with the multipart body that
-- `curl --form juid=... --form tags=1,2,3 --form label=login` sends, byte for byte
-- (boundary fixed so every target sees identical requests).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local boundary = "------------------------e791677246f67b82"
local function part(name, value)
  return "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="' .. name .. '"\r\n'
    .. "\r\n"
    .. value .. "\r\n"
end

local body = part("juid", "de6f0132ea9e412599ae31262c45633b")
  .. part("tags", "1,2,3")
  .. part("label", "login")
  .. "--" .. boundary .. "--\r\n"

common.request("POST", "/api/user/v1/action/", "multipart/form-data; boundary=" .. boundary, body)
