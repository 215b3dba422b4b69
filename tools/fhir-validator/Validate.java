// Validates FHIR R4 JSON files with the HL7 validator engine (org.hl7.fhir.validation's
// InstanceValidator, through HAPI FHIR's FhirInstanceValidator) against the base R4
// definitions shipped in a Maven jar, so that it runs offline. Exits 1 on any error.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

public class Validate {
  public static void main(String[] args) throws Exception {
    FhirContext ctx = FhirContext.forR4();
    ValidationSupportChain chain = new ValidationSupportChain(
        new DefaultProfileValidationSupport(ctx),
        new CommonCodeSystemsTerminologyService(ctx),
        new InMemoryTerminologyServerValidationSupport(ctx),
        new SnapshotGeneratingValidationSupport(ctx));
    FhirValidator validator = ctx.newValidator()
        .registerValidatorModule(new FhirInstanceValidator(chain));
    int errors = 0;
    for (String file : args) {
      ValidationResult result = validator.validateWithResult(Files.readString(Path.of(file)));
      System.out.println("== " + file + ": " + (result.isSuccessful() ? "valid" : "INVALID"));
      for (SingleValidationMessage m : result.getMessages()) {
        if (m.getSeverity() == ResultSeverityEnum.INFORMATION) continue;
        if (m.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal()) errors++;
        System.out.println("  " + m.getSeverity() + " " + m.getLocationString() + " "
            + m.getMessage());
      }
    }
    System.exit(errors == 0 ? 0 : 1);
  }
}
