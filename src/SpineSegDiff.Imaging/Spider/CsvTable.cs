using System.Text;

namespace SpineSegDiff.Imaging.Spider;

/// <summary>Just enough RFC 4180 for the SPIDER metadata files: quoted fields with commas, doubled quotes.</summary>
internal sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    private CsvTable(string[] header, List<string[]> rows)
    {
        Header = header;
        Rows = rows;
        _columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            _columns.TryAdd(header[i], i);
        }
    }

    public string[] Header { get; }

    public List<string[]> Rows { get; }

    public static CsvTable Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0)
        {
            throw new InvalidDataException($"{path} is empty.");
        }
        var header = ParseLine(lines[0]);
        var rows = new List<string[]>(lines.Length - 1);
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length > 0)
            {
                rows.Add(ParseLine(lines[i]));
            }
        }
        return new CsvTable(header, rows);
    }

    public int Column(string name) =>
        _columns.TryGetValue(name, out var index) ? index : throw new InvalidDataException($"CSV has no column '{name}'.");

    public static string Field(string[] row, int column) => column < row.Length ? row[column] : string.Empty;

    private static string[] ParseLine(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        fields.Add(current.ToString());
        return [.. fields];
    }
}
