// Draws every element with a `data-chart` attribute (an ECharts option as JSON) with the
// platform's own copy of ECharts; the page's table holds the same figures for those without
// JavaScript. Charts follow the element's width (phones included).
(function () {
  "use strict";
  function draw() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var option;
      try { option = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
      if (!el.style.height) { el.style.height = "320px"; }
      var chart = window.echarts.init(el);
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
