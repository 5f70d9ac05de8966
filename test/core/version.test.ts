import { test } from "node:test";
import assert from "node:assert/strict";
import { VERSION } from "../../server/version.js";

test("reported version is a semver triple", () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+$/);
});
