using System.Globalization;
using System.Net;
using System.Text;

namespace SpineSegDiff.Gateway.Status;

/// <summary>
/// The status page as one self-contained HTML document: no scripts, no external assets (the node may run where
/// nothing outside is reachable), every value HTML-encoded. It shows correlation ids, our own settings, times and
/// reasons, never patient names, patient IDs or UIDs.
/// </summary>
public static class StatusPage
{
    /// <summary>The name of the form field that carries the anti-forgery token of a retry.</summary>
    public const string TokenField = "token";

    public static string Render(StatusSnapshot snapshot, string formToken, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrEmpty(formToken);
        var c = CultureInfo.InvariantCulture;
        var html = new StringBuilder(16 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>SpineSegDiff node status</title>\n")
            .Append("<meta http-equiv=\"refresh\" content=\"15\">\n")
            .Append("<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin-bottom:1.5em}")
            .Append("td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}th{background:#eee}")
            .Append(".state-failed,.state-parked{color:#b00;font-weight:bold}.state-exported{color:#070}")
            .Append("img{max-width:256px;display:block}.small{font-size:85%;color:#444}</style></head><body>\n");
        html.Append("<h1>SpineSegDiff node ").Append(E(nodeName)).Append("</h1>\n<p class=\"small\">As of ")
            .Append(Time(snapshot.TakenAt)).Append(" UTC. Research software, synthetic training data: not for clinical use.</p>\n");

        var q = snapshot.Queues;
        html.Append("<h2>Queues</h2>\n<table id=\"queues\"><tr><th>series being assembled</th><th>jobs without an answer</th><th>exports pending</th><th>exports parked</th></tr>")
            .Append(c, $"<tr><td>{q.AssemblingSeries}</td><td>{q.OpenJobs}</td><td>{q.PendingExports}</td><td>{q.ParkedExports}</td></tr></table>\n");

        html.Append("<h2>Models</h2>\n");
        if (snapshot.ModelVersions.Count == 0)
        {
            html.Append("<p>No results yet.</p>\n");
        }
        else
        {
            html.Append("<table id=\"models\"><tr><th>model</th><th>version (of the newest results)</th></tr>");
            foreach (var (model, version) in snapshot.ModelVersions)
            {
                html.Append("<tr><td>").Append(E(model)).Append("</td><td>").Append(E(version)).Append("</td></tr>");
            }
            html.Append("</table>\n");
        }

        html.Append("<h2>Recent studies</h2>\n");
        if (snapshot.Studies.Count == 0)
        {
            html.Append("<p>None yet.</p>\n");
        }
        else
        {
            html.Append("<table id=\"studies\"><tr><th>study (correlation id)</th><th>state</th><th>times (UTC)</th><th>rule / profile</th><th>stages (s)</th><th>models</th><th>overlay</th><th>uncertainty</th></tr>\n");
            foreach (var study in snapshot.Studies)
            {
                var id = StudyIds.Format(study.Id);
                var state = study.State.ToString().ToLowerInvariant();
                html.Append("<tr class=\"study\" data-study=\"").Append(id).Append("\" data-state=\"").Append(state).Append("\">")
                    .Append("<td><code>").Append(id).Append("</code></td>")
                    .Append("<td class=\"state state-").Append(state).Append("\">").Append(state);
                if (study.Detail is { Length: > 0 } detail)
                {
                    html.Append("<div class=\"small\">").Append(E(detail)).Append("</div>");
                }
                html.Append("</td><td class=\"small\">");
                if (study.ReceivedAt is { } received)
                {
                    html.Append("received ").Append(Time(received)).Append("<br>");
                }
                if (study.RequestedAt is { } requested)
                {
                    html.Append("routed ").Append(Time(requested)).Append("<br>");
                }
                html.Append("last change ").Append(Time(study.LastChange)).Append("</td><td>")
                    .Append(E(study.Rule ?? "")).Append(study.Rule is null ? "" : "<br>").Append(E(study.Profile ?? "")).Append("</td><td class=\"small\">");
                foreach (var (stage, seconds) in study.StageSeconds)
                {
                    html.Append(E(stage)).Append(c, $": {seconds:F2}<br>");
                }
                if (study.StageSeconds.Count > 0)
                {
                    html.Append(c, $"<b>total: {study.StageSeconds.Sum(s => s.Value):F2}</b>");
                }
                html.Append("</td><td class=\"small\">");
                foreach (var (model, version) in study.ModelVersions)
                {
                    html.Append(E(model)).Append(' ').Append(E(version)).Append("<br>");
                }
                html.Append("</td>");
                foreach (var name in StudyIds.PreviewNames)
                {
                    html.Append("<td>");
                    if (study.Previews.Contains(name, StringComparer.Ordinal))
                    {
                        html.Append("<a href=\"/previews/").Append(id).Append('/').Append(name).Append("\"><img class=\"preview\" src=\"/previews/")
                            .Append(id).Append('/').Append(name).Append("\" alt=\"").Append(name).Append(" of ").Append(id).Append("\"></a>");
                    }
                    html.Append("</td>");
                }
                html.Append("</tr>\n");
            }
            html.Append("</table>\n");
        }

        html.Append("<h2>Parked exports</h2>\n");
        if (snapshot.Parked.Count == 0)
        {
            html.Append("<p>None.</p>\n");
        }
        else
        {
            html.Append("<table id=\"parked\"><tr><th>item</th><th>study</th><th>destination</th><th>why</th><th>parked (UTC)</th><th>attempts</th><th></th></tr>\n");
            foreach (var item in snapshot.Parked)
            {
                html.Append("<tr><td><code>").Append(E(item.ItemId)).Append("</code></td><td><code>").Append(item.StudyId is { } s ? StudyIds.Format(s) : "")
                    .Append("</code></td><td>").Append(E(item.Destination)).Append("</td><td>").Append(E(item.Kind)).Append(": ").Append(E(item.Reason))
                    .Append("</td><td>").Append(Time(item.ParkedAt)).Append(c, $"</td><td>{item.Attempts}</td><td>")
                    .Append("<form method=\"post\" action=\"/exports/").Append(E(item.ItemId)).Append("/retry\"><input type=\"hidden\" name=\"").Append(TokenField)
                    .Append("\" value=\"").Append(E(formToken)).Append("\"><button type=\"submit\">Retry</button></form></td></tr>\n");
            }
            html.Append("</table>\n");
        }
        html.Append("<p class=\"small\">Health: <a href=\"/health/live\">/health/live</a>, <a href=\"/health/ready\">/health/ready</a></p>\n</body></html>\n");
        return html.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
