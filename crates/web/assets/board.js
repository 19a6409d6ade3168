// 电子监察看板: refreshes the board's numbers in place every 15 seconds from
// board.json (the same counts, keyed as the page's data-count attributes, read with
// the session cookie) and says when in the polite live region #board-status.
// The page works without it: it then reloads itself every 30 seconds.
(function () {
  'use strict';
  var board = document.getElementById('live-board');
  var status = document.getElementById('board-status');
  if (!board || !status || !window.fetch) {
    return;
  }
  var url = board.getAttribute('data-poll');
  var updated = board.getAttribute('data-updated') || '已更新';
  var failed = board.getAttribute('data-failed') || '暂时无法更新';

  function apply(data) {
    var counts = data.counts || {};
    var cells = board.querySelectorAll('[data-count]');
    for (var i = 0; i < cells.length; i++) {
      var cell = cells[i];
      var n = counts[cell.getAttribute('data-count')] || 0;
      if (cell.textContent !== String(n)) {
        cell.textContent = String(n);
      }
      if (cell.hasAttribute('data-alert')) {
        cell.classList.toggle('tag', n > 0);
        cell.classList.toggle('bad', n > 0);
      }
    }
    var time = String(data.as_of_local || '').split(' ')[1] || '';
    status.textContent = updated + ' ' + time;
  }

  function poll() {
    fetch(url, { credentials: 'same-origin', redirect: 'error', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error(String(r.status));
        }
        return r.json();
      })
      .then(apply)
      .catch(function () {
        status.textContent = failed;
      });
  }

  window.setInterval(poll, 15000);
}());
