using Microsoft.Extensions.Options;

namespace SpineSegDiff.Cli.Hosting;

/// <summary>Adapts an options class's own Validate() (a list of messages) to the options framework's start-up validation.</summary>
internal sealed class SelfValidatingOptions<TOptions>(Func<TOptions, IEnumerable<string>> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = validate(options).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
