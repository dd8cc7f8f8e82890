"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var config_1 = require("vitest/config");
var vitest_shared_js_1 = require("../../vitest.shared.js");
exports.default = (0, config_1.mergeConfig)(vitest_shared_js_1.default, (0, config_1.defineConfig)({}));
