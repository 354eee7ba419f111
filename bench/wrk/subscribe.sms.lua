-- Scenario subscribe.sms: POST /api/user/v1/subscription/subscribe/sms, urlencoded,
-- with a phone number in the human form sites submit (justgate normalises it).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.request("POST", "/api/user/v1/subscription/subscribe/sms",
  "application/x-www-form-urlencoded",
  "juid=de6f0132ea9e412599ae31262c45633b&number=8+(912)+345-67-89")
