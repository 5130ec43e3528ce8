// Never download a browser: tests and benchmarks drive the system Chromium (/usr/bin/chromium).
module.exports = { skipDownload: true };
